"""The reads behind process discovery: directly-follows pairs and traces, grouped in SQL.

Everything discovery asks of a history goes through :func:`events`, the one place that
says which table holds the events and what its columns are called: today wfnb's own
``workflow_history``; a foreign history read in place (a future ``HistorySource``) plugs in
there by returning the same labelled columns over its own table. The statement builders
below only ever see those labels (see docs/adr/0121-discovery.md):

``workflow``, ``entity_table``, ``entity_id``, ``status`` (the status entered), ``kind``,
``step_key``, ``requester_type``, ``source``, ``changed_at``, ``id`` (the tie-breaker),
``at`` (the stamp as ``_seconds`` subtracts it).

An edge is a pair of consecutive events of one entity (``ORDER BY changed_at, id``): the
status the first entered → the status the second entered, lasting the time between them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from wfnb.store import queries
from wfnb.store.database import READONLY
from wfnb.store.errors import wrap_errors
from wfnb.store.reads import Filters, _instant, _seconds, _values, _where
from wfnb.store.tables import HISTORY
from wfnb.store.urls import require_database, require_history

__all__ = [
    "DISCOVERY_NAMES",
    "SEPARATOR",
    "events",
    "read",
    "select_entity_tables",
    "select_follow_details",
    "select_follows",
    "select_variants",
    "select_workflows",
]

SEPARATOR = "\x1f"
"""Joins the statuses of a trace in SQL (ASCII unit separator: no status name holds it)."""

Source = sa.Engine | str | sa.URL
"""What discovery reads: a wfnb database (URL or engine). A ``HistorySource`` joins later."""


def events(source: Source, f: Filters, dialect: str) -> sa.Subquery:
    """The source's events with discovery's column labels, filtered (``f``) in SQL.

    The plug point for other histories: only this function knows the table.
    """
    del source  # one kind of source so far: wfnb's workflow_history on the given database
    c = HISTORY.c
    return (
        sa.select(
            c.workflow,
            c.entity_table,
            c.entity_id,
            c.to_status.label("status"),
            c.kind,
            c.step_key,
            c.requester_type,
            c.source,
            c.changed_at,
            c.id,
            _instant(c.changed_at, dialect).label("at"),
        )
        .where(*_where(HISTORY, "changed_at", f, dialect))
        .subquery("events")
    )


def _partition(e: sa.Subquery, f: Filters) -> tuple[Any, ...]:
    one = f.workflow is not None and len(_values(f.workflow)) == 1
    return (e.c.entity_id,) if one else (e.c.workflow, e.c.entity_id)


def _window(e: sa.Subquery, f: Filters) -> dict[str, Any]:
    """Each entity's events in order: ``PARTITION BY entity ORDER BY changed_at, id``."""
    return {"partition_by": _partition(e, f), "order_by": (e.c.changed_at, e.c.id)}


def _pairs(e: sa.Subquery, f: Filters, dialect: str) -> sa.Subquery:
    """Each event with the status before it, the seconds since, and whether it is last."""
    window: dict[str, Any] = {
        "partition_by": _partition(e, f),
        "order_by": (e.c.changed_at, e.c.id),
    }
    before = sa.func.lag(e.c.status).over(**window)
    since = _seconds(e.c.at, sa.func.lag(e.c.at).over(**window), dialect)
    last = sa.func.lead(e.c.id).over(**window).is_(None)
    return sa.select(
        before.label("from_status"),
        e.c.status.label("to_status"),
        since.label("seconds"),
        sa.case((last, 1), else_=0).label("last"),
        e.c.kind,
        e.c.step_key,
        e.c.requester_type,
        e.c.source,
    ).subquery("pairs")


def select_follows(source: Source, f: Filters, dialect: str) -> sa.Select[Any]:
    """``(from_status, to_status, seconds, last, count)``: every event, grouped.

    ``from_status`` is NULL on an entity's first event (where it starts), ``last`` is 1 on
    its last one (where it is now); equal durations of a pair collapse into one row with
    their count, so percentiles need no row per event.
    """
    p = _pairs(events(source, f, dialect), f, dialect).c
    keys = (p.from_status, p.to_status, p.seconds, p.last)
    return sa.select(*keys, sa.func.count().label("count")).group_by(*keys)


def select_follow_details(source: Source, f: Filters, dialect: str) -> sa.Select[Any]:
    """``(from_status, to_status, kind, step_key, requester_type, source, count)`` per pair.

    What took each directly-follows edge: the history kind, step, requester and source.
    First events (no ``from_status``) are left out.
    """
    p = _pairs(events(source, f, dialect), f, dialect).c
    keys = (p.from_status, p.to_status, p.kind, p.step_key, p.requester_type, p.source)
    return (
        sa.select(*keys, sa.func.count().label("count"))
        .where(p.from_status.is_not(None))
        .group_by(*keys)
    )


def select_entity_tables(source: Source, f: Filters, dialect: str) -> sa.Select[Any]:
    """``(entity_table, count)``: the tables the events' entities live in, most events first."""
    e = events(source, f, dialect)
    n = sa.func.count().label("count")
    return sa.select(e.c.entity_table, n).group_by(e.c.entity_table).order_by(n.desc())


def select_workflows(source: Source, f: Filters, dialect: str) -> sa.Select[Any]:
    """``(workflow,)``: every workflow with history (the tenant's only; no other filter).

    What an unknown workflow name is checked against (WF200 with did-you-mean).
    """
    every = dataclasses.replace(f, workflow=None, since=None, until=None)
    e = events(source, every, dialect)
    return sa.select(e.c.workflow).distinct().order_by(e.c.workflow)


def select_variants(source: Source, f: Filters, dialect: str) -> sa.Select[Any]:
    """``(trace, seconds, count)``: entities per trace and case duration, grouped.

    A trace is the statuses an entity entered, in order, joined by :data:`SEPARATOR` (a
    running ``string_agg`` / ``group_concat`` window, read at the entity's last event);
    ``seconds`` is from its first event to its last.
    """
    e = events(source, f, dialect)
    window: dict[str, Any] = {
        "partition_by": _partition(e, f),
        "order_by": (e.c.changed_at, e.c.id),
    }
    if dialect == "postgresql":
        joined = sa.func.string_agg(e.c.status, SEPARATOR).over(**window)
    else:
        joined = sa.func.group_concat(e.c.status, SEPARATOR).over(**window)
    traces = sa.select(
        joined.label("trace"),
        _seconds(e.c.at, sa.func.first_value(e.c.at).over(**window), dialect).label("seconds"),
        sa.func.lead(e.c.id).over(**window).label("next_id"),
    ).subquery("traces")
    t = traces.c
    return (
        sa.select(t.trace, t.seconds, sa.func.count().label("count"))
        .where(t.next_id.is_(None))
        .group_by(t.trace, t.seconds)
    )


Rows = list[tuple[Any, ...]]


def read(
    source: Source,
    builders: Sequence[Any],
    f: Filters,
    *,
    tenant_id: str | None = None,
) -> list[tuple[Rows, list[str]]]:
    """Run each ``builder(source, f, dialect)`` in one read-only transaction.

    A URL must name an existing wfnb database (nothing is created); with ``tenant_id``, the
    transaction is scoped to it (row-level security on PostgreSQL).

    Raises:
        StoreError: not a wfnb database, or it cannot be read (WF300).
        WfnbUsageError: not a usable URL (WF400).
    """
    owned = not isinstance(source, sa.Engine)
    engine = source if isinstance(source, sa.Engine) else sa.create_engine(require_database(source))
    try:
        require_history(engine)
        out: list[tuple[Rows, list[str]]] = []
        with wrap_errors("discovery read"), engine.connect() as raw:
            conn = raw.execution_options(**{READONLY: True})
            with conn.begin():
                if tenant_id is not None and engine.dialect.name == "postgresql":
                    queries.set_tenant(conn, tenant_id)
                for build in builders:
                    result = conn.execute(build(source, f, engine.dialect.name))
                    out.append(([tuple(r) for r in result], list(result.keys())))
        return out
    finally:
        if owned:
            engine.dispose()


DISCOVERY_NAMES: tuple[str, ...] = tuple(n for n in __all__ if n.startswith("select_"))
"""Every statement builder here (tests compare it to the module)."""

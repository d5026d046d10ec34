"""The read-only statements conformance runs over ``workflow_history`` and entity tables.

Each function builds one SQLAlchemy Core ``SELECT`` (identifiers quoted by SQLAlchemy,
never formatted into strings), runs it on the caller's connection, and returns plain
column names and tuples: pandas stays on the analysis side of the boundary. Driver errors
become ``StoreError`` here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from wfnb.spec import EntitySpec
from wfnb.store.errors import wrap_errors
from wfnb.store.tables import HISTORY

__all__ = [
    "AUDIT_QUERY_NAMES",
    "REPLAY_COLUMNS",
    "STATE_COLUMNS",
    "count_history",
    "select_changed_at",
    "select_entity_states",
    "select_replay_rows",
]

CHUNK = 5000
"""Ids per ``IN`` list, under every dialect's bound-parameter limit."""

REPLAY_COLUMNS: tuple[str, ...] = (
    "id",
    "workflow",
    "entity_id",
    "step_key",
    "kind",
    "from_status",
    "to_status",
    "requester_type",
    "source",
    "config_hash",
    "correlation_id",
)
"""What replaying a history row needs (``changed_at`` is fetched only for flagged rows)."""

STATE_COLUMNS: tuple[str, ...] = (
    "entity_id",
    "status",
    "history_id",
    "to_status",
    "kind",
    "step_key",
    "requester_type",
    "config_hash",
    "changed_at",
)
"""One entity's current status beside its last history row."""

Rows = tuple[list[str], list[tuple[Any, ...]]]


def select_replay_rows(conn: sa.Connection, workflows: Sequence[str]) -> Rows:
    """Every history row of ``workflows`` in replay order.

    ::

        SELECT id, workflow, entity_id, step_key, kind, from_status, to_status,
               requester_type, source, config_hash
        FROM workflow_history WHERE workflow IN (...)
        ORDER BY workflow, entity_id, id

    ``id`` orders one entity's rows as they committed (the compare-and-swap serialises
    writes per entity), and the order is the ``ix_workflow_history_entity`` index.
    """
    stmt = (
        sa.select(*(HISTORY.c[name] for name in REPLAY_COLUMNS))
        .where(HISTORY.c.workflow.in_(sorted(workflows)))
        .order_by(HISTORY.c.workflow, HISTORY.c.entity_id, HISTORY.c.id)
    )
    with wrap_errors("read history for conformance"):
        result = conn.execute(stmt)
        return list(result.keys()), [tuple(r) for r in result.all()]


def count_history(conn: sa.Connection, workflows: Sequence[str]) -> int:
    """``SELECT count(*) FROM workflow_history WHERE workflow IN (...)``."""
    stmt = sa.select(sa.func.count()).where(HISTORY.c.workflow.in_(sorted(workflows)))
    with wrap_errors("count history"):
        return int(conn.execute(stmt).scalar_one())


def select_changed_at(conn: sa.Connection, ids: Sequence[int]) -> dict[int, datetime]:
    """``SELECT id, changed_at FROM workflow_history WHERE id IN (...)``, chunked."""
    found: dict[int, datetime] = {}
    with wrap_errors("read history timestamps"):
        for start in range(0, len(ids), CHUNK):
            chunk = [int(i) for i in ids[start : start + CHUNK]]
            stmt = sa.select(HISTORY.c.id, HISTORY.c.changed_at).where(HISTORY.c.id.in_(chunk))
            found.update((int(i), at) for i, at in conn.execute(stmt))
    return found


def select_entity_states(
    conn: sa.Connection, workflow: str, entity: EntitySpec, table: sa.Table
) -> Rows:
    """Each entity with history: its current status beside its last history row.

    ::

        SELECT CAST(e.id AS TEXT), e.status, h.id, h.to_status, h.kind, h.step_key,
               h.requester_type, h.config_hash, h.changed_at
        FROM (SELECT entity_id, max(id) AS last_id FROM workflow_history
              WHERE workflow = :wf GROUP BY entity_id) AS last
        JOIN workflow_history h ON h.id = last.last_id
        JOIN <table> e ON CAST(e.<id> AS TEXT) = last.entity_id

    Entities without any history row are left out (nothing to compare them with).
    """
    id_col = table.c[entity.id_column]
    entity_id: sa.ColumnElement[Any] = id_col
    if id_col.type.python_type is not str:
        entity_id = sa.cast(id_col, sa.String)
    last = (
        sa.select(HISTORY.c.entity_id, sa.func.max(HISTORY.c.id).label("last_id"))
        .where(HISTORY.c.workflow == workflow)
        .group_by(HISTORY.c.entity_id)
        .subquery("last")
    )
    h = HISTORY.alias("h")
    stmt = (
        sa.select(
            last.c.entity_id,
            table.c[entity.status_column].label("status"),
            h.c.id.label("history_id"),
            h.c.to_status,
            h.c.kind,
            h.c.step_key,
            h.c.requester_type,
            h.c.config_hash,
            h.c.changed_at,
        )
        .select_from(last)
        .join(h, h.c.id == last.c.last_id)
        .join(table, entity_id == last.c.entity_id)
    )
    with wrap_errors(f"read entity states of {workflow}"):
        result = conn.execute(stmt)
        return list(STATE_COLUMNS), [tuple(r) for r in result.all()]


AUDIT_QUERY_NAMES: tuple[str, ...] = tuple(
    n for n in __all__ if n not in {"AUDIT_QUERY_NAMES", "REPLAY_COLUMNS", "STATE_COLUMNS"}
)
"""The name of every statement function here (tests compare it to the module)."""

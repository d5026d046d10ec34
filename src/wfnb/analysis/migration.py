"""Entity migrations a config change needs: where to move entities, how many, and the UPDATE.

The counts and the UPDATE (rendered for the database's dialect with its values inlined, so it
can be reviewed and pasted as is) are statements of ``wfnb.store.audit``; this module decides
which statuses need them. With a database, an added status its entity table's status
constraint (a CHECK, a PostgreSQL enum) does not accept yet needs a migration too: of the
schema, not of entities; its ``update`` is the one-line DDL (``wfnb.store.widening``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace

import networkx as nx
import sqlalchemy as sa

from wfnb.analysis.change import Change, ChangeKind
from wfnb.analysis.graph import graph, status_graph
from wfnb.spec import Workflow
from wfnb.store import Store, audit, queries
from wfnb.store.widening import Widened, widenings

__all__ = ["suggest_target", "with_entities"]


def _terminal_target(old: Workflow, new: Workflow, status: str) -> tuple[str, str] | None:
    failed = status in old.failure_statuses
    pool = [t for t in new.terminal_statuses if (t in new.failure_statuses) == failed]
    pool = pool or list(new.terminal_statuses)
    if not pool:
        return None
    kind = "failure status" if failed else "terminal status"
    return pool[0], (
        f"{status!r} was a {kind}; {pool[0]!r} is one in the new config, so finished entities "
        "stay finished"
    )


def suggest_target(
    old: Workflow, new: Workflow, status: str, renames: Mapping[str, str] | None = None
) -> tuple[str, str]:
    """Where entities at a removed ``status`` should go under ``new``, and why.

    A terminal status maps to a terminal status of the new config (a failure status to a
    failure status). Otherwise the nearest status *before* it (walking edges backwards in
    the old graph) that the new config still declares, is neither terminal nor a claim
    status: entities moved back there redo the step that led them on, under the new rules,
    instead of skipping a validation or an action. Failing that, the new initial status.
    """
    renames = renames or {}
    if status in old.terminal_statuses:
        found = _terminal_target(old, new, status)
        if found:
            return found
    g = status_graph(graph(old))
    if status in g:
        back = nx.single_source_shortest_path_length(g.reverse(copy=False), status)
        start = nx.single_source_shortest_path_length(g, old.initial_status)
        for before in sorted(back, key=lambda s: (back[s], start.get(s, math.inf), s)):
            there = renames.get(before, before)
            if before == status or there not in new.status_types:
                continue
            if new.is_terminal(there) or there in new.claim_statuses:
                continue
            hops = back[before]
            where = "the status entities came from" if hops == 1 else f"{hops} transitions back"
            return there, (
                f"{there!r} is {where}: moved back there, entities redo the next step under "
                "the new config rather than skip a validation or an action"
            )
    return new.initial_status, (
        f"no status before {status!r} survives; the new initial status restarts them"
    )


def with_entities(
    changes: Sequence[Change],
    wf: Workflow,
    db: sa.Engine | str | sa.URL,
    new: Workflow | None = None,
) -> list[Change]:
    """Fill ``entities`` and ``update`` of every migrating change from the entity table.

    With ``new`` (the new version), an added status the table's status column does not
    accept yet becomes a migrating change whose ``update`` is the DDL that lets it.

    Args:
        changes: the classified changes.
        wf: the old version (its entity table holds the entities to move).
        db: a SQLAlchemy Engine or URL.
        new: the new version.

    Raises:
        StoreError: the table or its status column is missing, or the database fails.
    """
    moving = [c for c in changes if c.migration_needed and c.target]
    added = [c for c in changes if c.kind is ChangeKind.STATUS_ADDED] if new is not None else []
    if not moving and not added:
        return list(changes)
    store = Store(db)
    try:
        with store.transaction(readonly=True) as conn:
            table = queries.reflect_entity_table(conn, wf.entity.table)
            subjects = [c.subject for c in moving]
            counts = audit.count_entities_at(conn, wf.entity, table, subjects) if moving else {}
    finally:
        store.dispose()
    dialect = store.engine.dialect
    refused = _refused(table, wf, new, dialect) if added and new is not None else None
    return [
        replace(
            c,
            entities=counts.get(c.subject, 0),
            update=audit.migration_update(dialect, wf.entity, table, c.subject, c.target),
        )
        if c.migration_needed and c.target
        else _schema_migration(c, wf, refused)
        if refused is not None and c in added and c.subject not in refused.accepts
        else c
        for c in changes
    ]


def _refused(table: sa.Table, old: Workflow, new: Workflow, dialect: sa.Dialect) -> Widened | None:
    """What the status column accepts and its migration, when it refuses a new status."""
    column = old.entity.status_column
    found = widenings(table, {column: new.status_types}, dialect, old.entity.table)
    return found.get(column)


def _schema_migration(c: Change, wf: Workflow, refused: Widened) -> Change:
    where = f"column {wf.entity.status_column!r} of table {wf.entity.table!r}"
    return replace(
        c,
        migration_needed=True,
        note=f"migration: {where} does not accept {c.subject!r} yet (a schema migration; "
        "no entity moves)",
        update=refused.migration,
    )

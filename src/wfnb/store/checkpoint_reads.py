"""Incremental conformance's reads of the history and the entity tables (ADR 0112).

The rows after a checkpoint, the judged rows the new ones look back at, and the entities
an entity-level check may flag, each one statement (``wfnb.store.checkpoints`` owns the
tables these join).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from wfnb.spec import EntitySpec
from wfnb.store.bulk import _chunks, _is_any
from wfnb.store.checkpoints import ENTITIES, ENTITY_COLUMNS, REPLAY, Rows, _mine
from wfnb.store.errors import wrap_errors
from wfnb.store.tables import HISTORY

__all__ = ["select_entity_states", "select_new_rows", "select_tails"]


def _driver_rows(conn: sa.Connection, stmt: sa.Select[Any], what: str) -> list[tuple[Any, ...]]:
    """The driver's own tuples of ``stmt`` (plain strings and integers: ADR 0071)."""
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.params
    args: Any = (
        tuple(params[name] for name in compiled.positiontup or ())
        if compiled.positional
        else params
    )
    with wrap_errors(what):
        result = conn.exec_driver_sql(str(compiled), args)
        try:
            return list(result.cursor.fetchall())
        finally:
            result.close()


def select_new_rows(conn: sa.Connection, workflow: str, after: int) -> Rows:
    """History rows of ``workflow`` with ``id > after``, in id order (a range of the key)."""
    stmt = (
        sa.select(*(HISTORY.c[name] for name in REPLAY))
        .where(HISTORY.c.workflow == workflow, HISTORY.c.id > after)
        .order_by(HISTORY.c.id)
    )
    return list(REPLAY), _driver_rows(conn, stmt, "read new history for conformance")


def select_tails(
    conn: sa.Connection, workflow: str, config_set: str, entity_ids: Sequence[str], upto: int
) -> Rows:
    """Judged rows new rows need: from each entity's last entry (or first row) to ``upto``.

    ::

        SELECT h.<replay columns> FROM workflow_history h
        JOIN wfnb_conformance_entities s ON s.workflow = h.workflow
             AND s.entity_id = h.entity_id AND s.config_set = :set
        WHERE h.workflow = :w AND h.entity_id IN (...) AND h.id <= :upto
          AND h.id >= coalesce(s.entry_id, 0)
    """
    rows: list[tuple[Any, ...]] = []
    s = ENTITIES
    same_workflow = s.c.workflow == HISTORY.c.workflow
    for chunk in _chunks(conn, list(entity_ids)):
        stmt = (
            sa.select(*(HISTORY.c[name] for name in REPLAY))
            .join(s, sa.and_(same_workflow, s.c.entity_id == HISTORY.c.entity_id))
            .where(
                s.c.config_set == config_set,
                HISTORY.c.workflow == workflow,
                _is_any(conn, HISTORY.c.entity_id, chunk),
                HISTORY.c.id <= upto,
                HISTORY.c.id >= sa.func.coalesce(s.c.entry_id, 0),
            )
        )
        rows += _driver_rows(conn, stmt, "read judged history for conformance")
    return list(REPLAY), rows


def select_entity_states(
    conn: sa.Connection,
    *,
    workflow: str,
    config_set: str,
    entity: EntitySpec,
    table: sa.Table,
    watched: Sequence[str],
) -> Rows:
    """Entities an entity-level check may flag, their summary beside their table status.

    ::

        SELECT s.*, t.<status> FROM wfnb_conformance_entities s
        JOIN <table> t ON CAST(t.<id> AS TEXT) = s.entity_id
        WHERE s.workflow = :w AND s.config_set = :set
          AND (t.<status> IS DISTINCT FROM s.to_status OR s.kind = 'claimed'
               OR s.entry_status IN (<statuses a timer watches>))

    Every other entity sits at its last row's status, unclaimed, where no timer waits:
    no check can flag it, so it is never read.
    """
    id_col = table.c[entity.id_column]
    entity_id: sa.ColumnElement[Any] = id_col
    if id_col.type.python_type is not str:
        entity_id = sa.cast(id_col, sa.String)
    status = table.c[entity.status_column]
    s = ENTITIES
    maybe = [status.is_distinct_from(s.c.to_status), s.c.kind == "claimed"]
    if watched:
        maybe.append(s.c.entry_status.in_(sorted(watched)))
    stmt = (
        sa.select(*(s.c[n] for n in ENTITY_COLUMNS), status.label("status"))
        .join(table, entity_id == s.c.entity_id)
        .where(_mine(s, workflow, config_set), sa.or_(*maybe))
    )
    with wrap_errors(f"read entity statuses of {entity.table}"):
        return [*ENTITY_COLUMNS, "status"], [tuple(r) for r in conn.execute(stmt)]

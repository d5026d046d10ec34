"""The statements analysis runs over ``workflow_history`` and entity tables, all read-only.

Conformance replays history; a config diff counts the entities a migration would move and
shows (never runs) the UPDATE that moves them.

Each reading function builds one SQLAlchemy Core ``SELECT`` (identifiers quoted by
SQLAlchemy, never formatted into strings), runs it on the caller's connection, and returns
plain values: pandas stays on the analysis side of the boundary. Driver errors
become ``StoreError`` here. The replay read, millions of rows of plain strings and
integers, takes the driver's tuples as they are (ADR 0071).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from wfnb.exceptions import StoreError
from wfnb.spec import EntitySpec
from wfnb.store.bulk import _chunks, _is_any
from wfnb.store.errors import wrap_errors
from wfnb.store.tables import HISTORY

__all__ = [
    "AUDIT_QUERY_NAMES",
    "REPLAY_COLUMNS",
    "STATUS_COLUMNS",
    "count_by_status",
    "count_entities_at",
    "count_history",
    "count_moves",
    "last_changed_at",
    "migration_update",
    "select_changed_at",
    "select_entity_statuses",
    "select_replay_rows",
]

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

STATUS_COLUMNS: tuple[str, ...] = ("entity_id", "status")
"""One entity's id (as text, as history rows carry it) and current status."""

Rows = tuple[list[str], list[tuple[Any, ...]]]


def select_replay_rows(conn: sa.Connection, workflows: Sequence[str]) -> Rows:
    """Every history row of ``workflows`` in replay order.

    ::

        SELECT id, workflow, entity_id, step_key, kind, from_status, to_status,
               requester_type, source, config_hash, correlation_id
        FROM workflow_history WHERE workflow IN (...)
        ORDER BY workflow, entity_id, id

    ``id`` orders one entity's rows as they committed (the compare-and-swap serialises
    writes per entity), and the order is the ``ix_workflow_history_entity`` index.

    The statement is compiled by SQLAlchemy for the connection's dialect and executed with
    ``exec_driver_sql`` (engine events still see it); rows are the driver's own tuples.
    None of these columns has a result processor on SQLite or psycopg, so the values are
    the ones ``Connection.execute`` would return, without a ``Row`` built per row, which
    was half the time of reading a million rows (ADR 0071).
    """
    stmt = (
        sa.select(*(HISTORY.c[name] for name in REPLAY_COLUMNS))
        .where(HISTORY.c.workflow.in_(sorted(workflows)))
        .order_by(HISTORY.c.workflow, HISTORY.c.entity_id, HISTORY.c.id)
    )
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.params
    args: Any = (
        tuple(params[name] for name in compiled.positiontup or ())
        if compiled.positional
        else params
    )
    with wrap_errors("read history for conformance"):
        result = conn.exec_driver_sql(str(compiled), args)
        try:
            return list(REPLAY_COLUMNS), list(result.cursor.fetchall())
        finally:
            result.close()


def count_history(conn: sa.Connection, workflows: Sequence[str]) -> int:
    """``SELECT count(*) FROM workflow_history WHERE workflow IN (...)``."""
    stmt = sa.select(sa.func.count()).where(HISTORY.c.workflow.in_(sorted(workflows)))
    with wrap_errors("count history"):
        return int(conn.execute(stmt).scalar_one())


def count_moves(
    conn: sa.Connection,
    workflow: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    tenant_id: str | None = None,
) -> list[tuple[Any, ...]]:
    """How often each kind of move happened: what the history heat draws.

    ::

        SELECT kind, from_status, to_status, step_key, requester_type, source, count(*)
        FROM workflow_history WHERE workflow = :workflow
          [AND tenant_id = :tenant] [AND changed_at >= :since] [AND changed_at < :until]
        GROUP BY kind, from_status, to_status, step_key, requester_type, source
    """
    c = HISTORY.c
    keys = (c.kind, c.from_status, c.to_status, c.step_key, c.requester_type, c.source)
    stmt = sa.select(*keys, sa.func.count()).where(c.workflow == workflow).group_by(*keys)
    if tenant_id is not None:
        stmt = stmt.where(c.tenant_id == tenant_id)
    if since is not None:
        stmt = stmt.where(c.changed_at >= since)
    if until is not None:
        stmt = stmt.where(c.changed_at < until)
    with wrap_errors("count history moves"):
        return [tuple(row) for row in conn.execute(stmt)]


def last_changed_at(conn: sa.Connection, workflows: Sequence[str]) -> datetime | None:
    """``SELECT max(changed_at) FROM workflow_history WHERE workflow IN (...)``: the data's end."""
    stmt = sa.select(sa.func.max(HISTORY.c.changed_at)).where(
        HISTORY.c.workflow.in_(sorted(workflows))
    )
    with wrap_errors("read the last history timestamp"):
        value = conn.execute(stmt).scalar_one()
    if isinstance(value, str):  # SQLite's max() returns the stored text
        value = datetime.fromisoformat(value)
    return value  # type: ignore[no-any-return]


def select_changed_at(conn: sa.Connection, ids: Sequence[int]) -> dict[int, datetime]:
    """``SELECT id, changed_at FROM workflow_history WHERE id IN (...)``.

    Chunked as ``wfnb.store.bulk`` chunks ids (on PostgreSQL one array parameter).
    """
    found: dict[int, datetime] = {}
    with wrap_errors("read history timestamps"):
        for chunk in _chunks(conn, [int(i) for i in ids]):
            stmt = sa.select(HISTORY.c.id, HISTORY.c.changed_at).where(
                _is_any(conn, HISTORY.c.id, chunk)
            )
            found.update((int(i), at) for i, at in conn.execute(stmt))
    return found


def select_entity_statuses(conn: sa.Connection, entity: EntitySpec, table: sa.Table) -> Rows:
    """Every entity's id (as text) and current status.

    ::

        SELECT CAST(<id> AS TEXT), <status> FROM <table>

    Conformance sets these beside each entity's last history row, which it already holds.
    """
    id_col = table.c[entity.id_column]
    entity_id: sa.ColumnElement[Any] = id_col
    if id_col.type.python_type is not str:
        entity_id = sa.cast(id_col, sa.String)
    stmt = sa.select(entity_id.label("entity_id"), table.c[entity.status_column].label("status"))
    with wrap_errors(f"read entity statuses of {entity.table}"):
        return list(STATUS_COLUMNS), [tuple(r) for r in conn.execute(stmt)]


def count_entities_at(
    conn: sa.Connection, entity: EntitySpec, table: sa.Table, statuses: Sequence[str]
) -> dict[str, int]:
    """``SELECT status, count(*) FROM <table> WHERE status IN (...) GROUP BY status``.

    Raises:
        StoreError: the table has no such status column, or the read fails.
    """
    if entity.status_column not in table.c:
        raise StoreError(
            f"entity table {entity.table!r} has no status column {entity.status_column!r}",
            table=entity.table,
        )
    col = table.c[entity.status_column]
    stmt = sa.select(col, sa.func.count()).where(col.in_(sorted(statuses))).group_by(col)
    with wrap_errors(f"count entities of {entity.table}"):
        return {str(s): int(n) for s, n in conn.execute(stmt).all()}


def count_by_status(
    conn: sa.Connection, entity: EntitySpec, table: sa.Table
) -> dict[str | None, int]:
    """How many entities sit at each status the table holds (NULL as None).

    ::

        SELECT status, count(*) FROM <table> GROUP BY status

    One grouped read (an index on the status column serves it): what the start-up check
    compares with ``status_types`` to find a forgotten migration.

    Raises:
        StoreError: the table has no such status column, or the read fails.
    """
    if entity.status_column not in table.c:
        raise StoreError(
            f"entity table {entity.table!r} has no status column {entity.status_column!r}",
            table=entity.table,
        )
    col = table.c[entity.status_column]
    stmt = sa.select(col, sa.func.count()).group_by(col)
    with wrap_errors(f"count entities by status of {entity.table}"):
        return {None if s is None else str(s): int(n) for s, n in conn.execute(stmt).all()}


def migration_update(
    dialect: sa.Dialect, entity: EntitySpec, table: sa.Table, old: str, new: str
) -> str:
    """The one-line UPDATE moving every entity at ``old`` to ``new``, values inlined.

    ::

        UPDATE <table> SET status='new', version=version + 1 WHERE status = 'old';

    Rendered for review and pasting, never executed here. The version bump makes a step in
    flight on a moved entity fail its compare-and-swap instead of writing over the move.
    """
    values: dict[str, Any] = {entity.status_column: new}
    if entity.version_column in table.c:
        values[entity.version_column] = table.c[entity.version_column] + 1
    stmt = sa.update(table).where(table.c[entity.status_column] == old).values(values)
    text = str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    return text.replace("\n", " ") + ";"


AUDIT_QUERY_NAMES: tuple[str, ...] = tuple(
    n for n in __all__ if n not in {"AUDIT_QUERY_NAMES", "REPLAY_COLUMNS", "STATUS_COLUMNS"}
)
"""The name of every statement function here (tests compare it to the module)."""

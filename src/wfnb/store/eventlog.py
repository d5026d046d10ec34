"""The statements event-log export and import run (``wfnb.eventlog`` holds the formats).

Export streams ``workflow_history`` ordered by workflow, entity, time and id in chunks
(a server-side cursor on PostgreSQL), and reads the current status of each chunk's
entities from their tables; import creates a minimal entity table where none exists,
inserts history rows in batches and inserts or updates the entity rows at each case's
last status. Every function runs on the caller's connection, so an import is one
transaction: a malformed file leaves nothing behind. Driver errors become
``StoreError`` here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from wfnb.exceptions import StoreError
from wfnb.spec import ID_LENGTH, NAME_LENGTH, EntitySpec
from wfnb.store import queries
from wfnb.store.bulk import _chunks, _is_any
from wfnb.store.errors import wrap_errors
from wfnb.store.tables import HISTORY, OUTBOX, PERMANENT_FAILURE_LOG

__all__ = [
    "EVENTLOG_QUERY_NAMES",
    "EXPORT_COLUMNS",
    "cases_with_history",
    "create_entity_table",
    "delete_outbox_rows",
    "entity_table_or_none",
    "history_workflows",
    "insert_history_rows",
    "install_engine_tables",
    "select_entity_states",
    "stream_history",
    "upsert_entities",
]

EXPORT_COLUMNS: tuple[str, ...] = tuple(c.name for c in HISTORY.c if c.name != "id")
"""Every history column an exported event carries (the row id is the database's own)."""

EVENTLOG_QUERY_NAMES = (
    "cases_with_history",
    "create_entity_table",
    "delete_outbox_rows",
    "entity_table_or_none",
    "history_workflows",
    "insert_history_rows",
    "install_engine_tables",
    "select_entity_states",
    "stream_history",
    "upsert_entities",
)
"""The named statements of this module (a test lists them)."""

CHUNK_ROWS = 5000
"""Rows fetched per round trip when streaming the history."""


def _where(
    workflow: Sequence[str] | None,
    since: datetime | None,
    until: datetime | None,
    tenant_id: str | None,
) -> list[sa.ColumnElement[bool]]:
    clauses: list[sa.ColumnElement[bool]] = []
    if workflow:
        clauses.append(HISTORY.c.workflow.in_(list(workflow)))
    if since is not None:
        clauses.append(HISTORY.c.changed_at >= since)
    if until is not None:
        clauses.append(HISTORY.c.changed_at < until)
    if tenant_id is not None:
        clauses.append(HISTORY.c.tenant_id == tenant_id)
    return clauses


def stream_history(
    conn: sa.Connection,
    *,
    workflow: Sequence[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    tenant_id: str | None = None,
    chunk: int = CHUNK_ROWS,
) -> Iterator[list[dict[str, Any]]]:
    """History rows in chunks of ``chunk``, each row a dict of :data:`EXPORT_COLUMNS`.

    ::

        SELECT <columns> FROM workflow_history WHERE <filters>
        ORDER BY workflow, entity_id, changed_at, id

    ``since`` is inclusive, ``until`` exclusive. Memory holds one chunk, not the history.
    """
    columns = [HISTORY.c[name] for name in EXPORT_COLUMNS]
    stmt = (
        sa.select(*columns)
        .where(*_where(workflow, since, until, tenant_id))
        .order_by(HISTORY.c.workflow, HISTORY.c.entity_id, HISTORY.c.changed_at, HISTORY.c.id)
    )
    with wrap_errors("stream history"):
        result = conn.execution_options(stream_results=True, yield_per=chunk).execute(stmt)
        for part in result.partitions(chunk):
            yield [dict(zip(EXPORT_COLUMNS, row, strict=True)) for row in part]


def entity_table_or_none(conn: sa.Connection, entity: EntitySpec) -> sa.Table | None:
    """The reflected entity table, or None when it does not exist or lacks id and status."""
    schema, _, name = entity.table.rpartition(".")
    with wrap_errors(f"inspect {entity.table}"):
        if not sa.inspect(conn).has_table(name, schema=schema or None):
            return None
        table = sa.Table(name, sa.MetaData(), autoload_with=conn, schema=schema or None)
    if entity.id_column not in table.c or entity.status_column not in table.c:
        return None
    return table


def _typed_ids(table: sa.Table, entity: EntitySpec, ids: Sequence[str]) -> list[Any]:
    """History carries ids as text; an integer id column is matched with integers."""
    if table.c[entity.id_column].type.python_type is int:
        return [int(i) for i in ids if i.lstrip("-").isdigit()]
    return list(ids)


def select_entity_states(
    conn: sa.Connection, entity: EntitySpec, table: sa.Table, ids: Sequence[str]
) -> dict[str, tuple[Any, Any, Any]]:
    """``{id as text: (status, version, tenant)}`` of the entities ``ids`` name.

    ::

        SELECT <id>, <status>, <version>, <tenant> FROM <table> WHERE <id> IN (...)

    A missing version or tenant column reads as None.
    """
    id_col = table.c[entity.id_column]
    picked = [
        table.c[name] if name is not None and name in table.c else sa.null()
        for name in (entity.status_column, entity.version_column, entity.tenant_column)
    ]
    found: dict[str, tuple[Any, Any, Any]] = {}
    values = _typed_ids(table, entity, ids)
    with wrap_errors(f"read entity states of {entity.table}"):
        for part in _chunks(conn, values):
            stmt = sa.select(id_col, *picked).where(_is_any(conn, id_col, part))
            for row in conn.execute(stmt):
                found[str(row[0])] = (row[1], row[2], row[3])
    return found


def create_entity_table(conn: sa.Connection, entity: EntitySpec) -> sa.Table:
    """Create a minimal entity table (id, status, version, tenant), no status CHECK.

    An imported log may name statuses the config does not know; conformance reports them,
    a constraint would refuse the whole import.
    """
    schema, _, name = entity.table.rpartition(".")
    columns: list[sa.Column[Any]] = [
        sa.Column(entity.id_column, sa.String(ID_LENGTH), primary_key=True),
        sa.Column(entity.status_column, sa.String(NAME_LENGTH), nullable=False),
        sa.Column(entity.version_column, sa.Integer, nullable=False, server_default="0"),
    ]
    if entity.tenant_column is not None:
        columns.append(sa.Column(entity.tenant_column, sa.String(NAME_LENGTH), nullable=True))
    table = sa.Table(name, sa.MetaData(), *columns, schema=schema or None)
    with wrap_errors(f"create entity table {entity.table}"):
        table.create(conn, checkfirst=True)
    return table


def install_engine_tables(conn: sa.Connection) -> None:
    """``Store.install`` on the caller's transaction: an import that fails leaves none."""
    queries.create_engine_tables(conn)
    if conn.dialect.name == "postgresql":
        for table in (HISTORY, PERMANENT_FAILURE_LOG):
            queries.enable_row_level_security(conn, table)


def insert_history_rows(conn: sa.Connection, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """``INSERT INTO workflow_history ... RETURNING id`` the rows; returns their ids."""
    if not rows:
        return []
    with wrap_errors("insert imported history"):
        result = conn.execute(sa.insert(HISTORY).returning(HISTORY.c.id), list(rows))
        return [int(r[0]) for r in result]


def history_workflows(conn: sa.Connection) -> set[str]:
    """``SELECT DISTINCT workflow FROM workflow_history``."""
    with wrap_errors("read history workflows"):
        return {str(r[0]) for r in conn.execute(sa.select(HISTORY.c.workflow).distinct())}


def cases_with_history(conn: sa.Connection, workflow: str, ids: Sequence[str]) -> set[str]:
    """The entity ids of ``ids`` that already have a history row in ``workflow``.

    ::

        SELECT DISTINCT entity_id FROM workflow_history
        WHERE workflow = :workflow AND entity_id IN (...)
    """
    found: set[str] = set()
    with wrap_errors("read existing history"):
        for part in _chunks(conn, list(ids)):
            stmt = (
                sa.select(HISTORY.c.entity_id)
                .distinct()
                .where(HISTORY.c.workflow == workflow, _is_any(conn, HISTORY.c.entity_id, part))
            )
            found.update(str(r[0]) for r in conn.execute(stmt))
    return found


def delete_outbox_rows(conn: sa.Connection, history_ids: Sequence[int]) -> int:
    """``DELETE FROM workflow_outbox WHERE history_id IN (...)``; returns how many.

    Imported history is not a new transition: the outbox trigger's rows for it go, in
    the import's transaction.
    """
    deleted = 0
    with wrap_errors("delete imported outbox rows"):
        for part in _chunks(conn, list(history_ids)):
            stmt = sa.delete(OUTBOX).where(_is_any(conn, OUTBOX.c.history_id, part))
            deleted += conn.execute(stmt).rowcount or 0
    return deleted


def upsert_entities(
    conn: sa.Connection,
    entity: EntitySpec,
    table: sa.Table,
    states: Mapping[str, tuple[str, int | None, str | None]],
) -> tuple[int, int]:
    """Insert the entities of ``states`` ({id: (status, version, tenant)}), or update them.

    ::

        SELECT <id> FROM <table> WHERE <id> IN (...)
        UPDATE <table> SET <status>=, <version>= WHERE <id> = :id   -- those found
        INSERT INTO <table> (<id>, <status>, <version>, <tenant>) VALUES ...  -- the others

    Returns:
        (inserted, updated).
    """
    id_col = table.c[entity.id_column]
    as_int = id_col.type.python_type is int
    has_version = entity.version_column in table.c
    has_tenant = entity.tenant_column is not None and entity.tenant_column in table.c
    ids = list(states)
    wrong = next((i for i in ids if as_int and not i.lstrip("-").isdigit()), None)
    if wrong is not None:
        raise StoreError(
            f"entity table {entity.table!r} has integer ids; case {wrong!r} is not one",
            table=entity.table,
        )
    existing: set[str] = set()
    with wrap_errors(f"write entities of {entity.table}"):
        for part in _chunks(conn, _typed_ids(table, entity, ids) if as_int else ids):
            existing.update(
                str(r[0])
                for r in conn.execute(sa.select(id_col).where(_is_any(conn, id_col, part)))
            )
        news, olds = [], []
        for key in ids:
            status, version, tenant = states[key]
            row: dict[str, Any] = {entity.status_column: status}
            if has_version:
                row[entity.version_column] = version or 0
            if key in existing:
                olds.append({"b_id": int(key) if as_int else key, **row})
                continue
            row[entity.id_column] = int(key) if as_int else key
            if has_tenant:
                row[str(entity.tenant_column)] = tenant
            news.append(row)
        if olds:
            values: dict[str, Any] = {c: sa.bindparam(c) for c in olds[0] if c != "b_id"}
            update = table.update().where(id_col == sa.bindparam("b_id")).values(values)
            conn.execute(update, olds)
        if news:
            conn.execute(table.insert(), news)
    return len(news), len(olds)

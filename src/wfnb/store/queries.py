"""The engine's per-entity SQL and its DDL, each a named, documented function (a test lists them).

Statements over many entities at once live in ``wfnb.store.bulk``; the audit, frame,
ledger, shadow and simulation reads and writes in their own modules beside this one.

Statements are SQLAlchemy 2 Core constructs: identifiers (the user's entity tables and
columns) are quoted by SQLAlchemy, never formatted into strings. The only hand-written
SQL is the fixed text of the row-level-security policy, applied to the engine's own
tables through ``sa.DDL``, which quotes the table name itself.

Functions take an open ``Connection``; the caller (``Store.transaction``) owns the
transaction and wraps driver errors into ``StoreError``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from wfnb.exceptions import InvalidPayloadError, StoreError
from wfnb.spec import EntitySpec
from wfnb.store.direct import direct_select, watched
from wfnb.store.tables import HISTORY, METADATA, PERMANENT_FAILURE_LOG

__all__ = [
    "QUERY_NAMES",
    "compare_and_swap",
    "create_engine_tables",
    "enable_row_level_security",
    "insert_failures",
    "insert_history",
    "left_status_since",
    "reflect_entity_table",
    "select_creation",
    "select_entity",
    "select_entity_for_update",
    "select_timer_entries",
    "set_tenant",
    "swap_and_record",
]

_INSERT_HISTORY = sa.insert(HISTORY).returning(HISTORY.c.id, HISTORY.c.entity_id)
_INSERT_FAILURE = sa.insert(PERMANENT_FAILURE_LOG)
TENANT_POLICY = "wfnb_tenant_isolation"
_TENANT_PREDICATE = (
    "tenant_id IS NOT DISTINCT FROM NULLIF(current_setting('app.tenant_id', true), '')"
)


def create_engine_tables(conn: sa.Connection) -> None:
    """``CREATE TABLE/INDEX IF NOT EXISTS`` for the engine-owned tables (idempotent)."""
    METADATA.create_all(conn, checkfirst=True)


def enable_row_level_security(conn: sa.Connection, table: sa.Table) -> None:
    """PostgreSQL: ENABLE + FORCE row-level security and (re)create the tenant policy.

    A row is visible (and writable) when its ``tenant_id`` equals ``app.tenant_id``;
    with no tenant set (unset or ``''``), only rows whose ``tenant_id`` IS NULL are.
    See docs/adr/0012-context-envelope-and-rls.md.
    """
    for text in (
        "ALTER TABLE %(fullname)s ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE %(fullname)s FORCE ROW LEVEL SECURITY",
        f"DROP POLICY IF EXISTS {TENANT_POLICY} ON %(fullname)s",
        f"CREATE POLICY {TENANT_POLICY} ON %(fullname)s "
        f"USING ({_TENANT_PREDICATE}) WITH CHECK ({_TENANT_PREDICATE})",
    ):
        conn.execute(sa.DDL(text).against(table))  # type: ignore[no-untyped-call]


def reflect_entity_table(conn: sa.Connection, name: str) -> sa.Table:
    """Reflect the user's entity table ``name`` (columns, types, primary key).

    ``name`` may be schema-qualified (``"billing.invoices"``).

    Raises:
        StoreError: no such table.
    """
    schema, _, table = name.rpartition(".")
    try:
        return sa.Table(table, sa.MetaData(), autoload_with=conn, schema=schema or None)
    except sa.exc.NoSuchTableError as exc:
        raise StoreError(f"entity table {name!r} does not exist", table=name) from exc


def set_tenant(conn: sa.Connection, tenant_id: str) -> None:
    """PostgreSQL: ``set_config('app.tenant_id', :t, true)`` for this transaction only.

    Every tenant scope passes here: a tenant id that is not text, or holds a NUL character
    (which PostgreSQL cannot take), is ``InvalidPayloadError`` (WF208) as for a step.
    """
    if not isinstance(tenant_id, str):
        raise InvalidPayloadError(
            f"tenant_id must be text, not {type(tenant_id).__name__}", field="tenant_id"
        )
    if "\x00" in tenant_id:
        raise InvalidPayloadError("tenant_id holds a NUL character", field="tenant_id")
    conn.execute(sa.select(sa.func.set_config("app.tenant_id", tenant_id, True)))


def _id_value(table: sa.Table, entity: EntitySpec, entity_id: Any) -> Any:
    """The id as the column wants it (``"7"`` for an integer column becomes ``7``)."""
    if isinstance(entity_id, str) and entity_id.isdigit() and _takes_int(table, entity.id_column):
        return int(entity_id)
    return entity_id


@lru_cache(maxsize=256)
def _takes_int(table: sa.Table, column: str) -> bool:
    """Whether ``column`` holds integers (asked once per table: ``python_type`` is slow)."""
    return table.c[column].type.python_type is int


def _scoped(
    stmt: sa.Select[Any], table: sa.Table, entity: EntitySpec, tenant_id: str | None
) -> sa.Select[Any]:
    if entity.tenant_column is not None and tenant_id is not None:
        stmt = stmt.where(table.c[entity.tenant_column] == tenant_id)
    return stmt


@lru_cache(maxsize=256)
def _select_one(table: sa.Table, id_column: str, tenant_column: str | None) -> sa.Select[Any]:
    """Built once per table: statement construction is most of SQLAlchemy's per-call cost."""
    stmt = sa.select(table).where(table.c[id_column] == sa.bindparam("wfnb_id"))
    if tenant_column is not None:
        stmt = stmt.where(table.c[tenant_column] == sa.bindparam("wfnb_tenant"))
    return stmt


def select_entity(
    conn: sa.Connection,
    table: sa.Table,
    entity: EntitySpec,
    entity_id: Any,
    tenant_id: str | None,
) -> dict[str, Any] | None:
    """``SELECT * FROM <table> WHERE id = :id [AND tenant = :t]``: one entity row or None.

    On SQLite, while nothing watches statements, the compiled SELECT runs on the DB-API
    connection (``wfnb.store.direct``, ADR 0015): the same SQL, row, types and errors.
    """
    scoped = entity.tenant_column if tenant_id is not None else None
    params: dict[str, Any] = {"wfnb_id": _id_value(table, entity, entity_id)}
    if scoped:
        params["wfnb_tenant"] = tenant_id
    stmt = _select_one(table, entity.id_column, scoped)
    direct = direct_select(stmt, conn.dialect)
    if direct is not None and not watched(conn):
        return direct.first(conn, params)
    row = conn.execute(stmt, params).first()
    return row._asdict() if row is not None else None


def select_entity_for_update(
    conn: sa.Connection,
    table: sa.Table,
    entity: EntitySpec,
    entity_id: Any,
    tenant_id: str | None,
) -> dict[str, Any] | None:
    """``SELECT * FROM <table> WHERE id = :id [AND tenant = :t] FOR UPDATE``: row or None.

    The row stays locked until the transaction ends (PostgreSQL), so two transactions
    deciding something about the same entity take turns; SQLite's write transaction
    holds the database lock already (``FOR UPDATE`` is not rendered there).
    """
    stmt = sa.select(table).where(table.c[entity.id_column] == _id_value(table, entity, entity_id))
    if entity.tenant_column is not None and tenant_id is not None:
        stmt = stmt.where(table.c[entity.tenant_column] == tenant_id)
    row = conn.execute(stmt.with_for_update()).first()
    return row._asdict() if row is not None else None


def select_creation(conn: sa.Connection, workflow: str, entity_id: str) -> dict[str, Any] | None:
    """The history row recording the entity's creation (``from_status IS NULL``), or None.

    ``SELECT * FROM workflow_history WHERE workflow = :w AND entity_id = :e
    AND kind = 'initiated' AND from_status IS NULL ORDER BY id LIMIT 1``.
    """
    stmt = (
        sa.select(HISTORY)
        .where(
            HISTORY.c.workflow == workflow,
            HISTORY.c.entity_id == entity_id,
            HISTORY.c.kind == "initiated",
            HISTORY.c.from_status.is_(None),
        )
        .order_by(HISTORY.c.id)
        .limit(1)
    )
    row = conn.execute(stmt).mappings().first()
    return dict(row) if row is not None else None


def _swap_params(
    table: sa.Table, entity: EntitySpec, entity_id: Any, version: int, to_status: str
) -> dict[str, Any]:
    """The parameters of ``_swap_one``."""
    return {
        "wfnb_id": _id_value(table, entity, entity_id),
        "wfnb_version": version,
        "wfnb_to": to_status,
    }


@lru_cache(maxsize=256)
def _swap_one(
    table: sa.Table, id_column: str, version_column: str, status_column: str
) -> sa.Update:
    ver = table.c[version_column]
    return (
        sa.update(table)
        .where(table.c[id_column] == sa.bindparam("wfnb_id"), ver == sa.bindparam("wfnb_version"))
        .values({status_column: sa.bindparam("wfnb_to"), version_column: ver + 1})
    )


def compare_and_swap(
    conn: sa.Connection,
    table: sa.Table,
    entity: EntitySpec,
    entity_id: Any,
    *,
    version: int,
    to_status: str,
) -> bool:
    """``UPDATE <table> SET status=:to, version=version+1 WHERE id=:id AND version=:v``.

    Returns:
        Whether exactly one row matched (False = a concurrent change: WF204).
    """
    stmt = _swap_one(table, entity.id_column, entity.version_column, entity.status_column)
    return (
        conn.execute(stmt, _swap_params(table, entity, entity_id, version, to_status)).rowcount == 1
    )


_RECORDED = [c.name for c in HISTORY.c if c.name not in {"id", "entity_version"}]
"""History columns a combined write binds (``entity_version`` comes from the UPDATE)."""


@lru_cache(maxsize=256)
def _swap_and_record_one(
    table: sa.Table, id_column: str, version_column: str, status_column: str
) -> sa.Insert:
    """Built once per table: the CAS as a CTE feeding the history INSERT."""
    moved = (
        _swap_one(table, id_column, version_column, status_column)
        .returning(table.c[version_column].label("entity_version"))
        .cte("wfnb_moved")
    )
    # Typed casts: in INSERT ... SELECT, PostgreSQL gives bare parameters no column type.
    values = [
        sa.cast(sa.bindparam(f"h_{n}", type_=HISTORY.c[n].type), HISTORY.c[n].type)
        for n in _RECORDED
    ]
    rows = sa.select(*values, moved.c.entity_version)
    insert = sa.insert(HISTORY).from_select([*_RECORDED, "entity_version"], rows)
    return insert.returning(HISTORY.c.id)


def swap_and_record(
    conn: sa.Connection,
    table: sa.Table,
    entity: EntitySpec,
    entity_id: Any,
    *,
    version: int,
    to_status: str,
    history: Mapping[str, Any],
) -> int | None:
    """The compare-and-swap and its history row; on PostgreSQL in one statement.

    ::

        WITH wfnb_moved AS (
            UPDATE <table> SET status=:to, version=version+1
            WHERE id=:id AND version=:v RETURNING version AS entity_version)
        INSERT INTO workflow_history (..., entity_version)
        SELECT CAST(:workflow AS VARCHAR), ..., wfnb_moved.entity_version FROM wfnb_moved
        RETURNING id

    One round trip instead of two; the history row exists exactly when the swap matched
    (a row comes back; ``rowcount`` is not reported for a statement with a DML CTE).
    SQLite has no data-modifying CTE: there it is ``compare_and_swap`` then
    ``insert_history`` (in-process, a second statement costs no round trip). ADR 0014.

    Returns:
        The history row's id, or None when the swap did not match (a concurrent change:
        WF204, nothing written).
    """
    if conn.dialect.name != "postgresql":
        swapped = compare_and_swap(
            conn, table, entity, entity_id, version=version, to_status=to_status
        )
        written = int(version) + 1  # the version the swap wrote, as RETURNING gives it on PG
        if not swapped:
            return None
        same = history.get("entity_version") == written
        return insert_history(conn, [history if same else {**history, "entity_version": written}])[
            0
        ]
    stmt = _swap_and_record_one(
        table, entity.id_column, entity.version_column, entity.status_column
    )
    params = {f"h_{n}": history.get(n) for n in _RECORDED}
    params.update(_swap_params(table, entity, entity_id, version, to_status))
    ids = conn.execute(stmt, params).scalars().all()
    return int(ids[0]) if len(ids) == 1 else None


def insert_history(conn: sa.Connection, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """``INSERT INTO workflow_history ... RETURNING id``: one row, or many (executemany).

    Returns:
        The new rows' ids, in the order of ``rows``.
    """
    if not rows:
        return []
    keys = [str(r["entity_id"]) for r in rows]
    if len(set(keys)) < len(keys):  # ids matched by entity below: one entity, one row
        return [insert_history(conn, [r])[0] for r in rows]
    # RETURNING in parameter order makes SQLite insert row by row: match ids by entity
    written = {str(e): int(i) for i, e in conn.execute(_INSERT_HISTORY, list(rows))}
    return [written[k] for k in keys]


def insert_failures(conn: sa.Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """``INSERT INTO workflow_permanent_failure_log``: one row, or many (executemany)."""
    if rows:
        conn.execute(_INSERT_FAILURE, list(rows))


def left_status_since(
    conn: sa.Connection, workflow: str, entity_id: str, status: str, version: int
) -> bool:
    """Whether the entity left ``status`` after reaching ``version`` (a timer gone stale).

    ``SELECT 1 FROM workflow_history WHERE workflow AND entity_id AND from_status = :status
    AND to_status <> :status AND entity_version > :version LIMIT 1``. A move that stays at
    the status (a reminder's self-loop) is not leaving it.
    """
    stmt = (
        sa.select(sa.literal(1))
        .where(
            HISTORY.c.workflow == workflow,
            HISTORY.c.entity_id == entity_id,
            HISTORY.c.from_status == status,
            HISTORY.c.to_status != status,
            HISTORY.c.entity_version > version,
        )
        .limit(1)
    )
    return conn.execute(stmt).first() is not None


def select_timer_entries(
    conn: sa.Connection, workflow: str, statuses: Sequence[str]
) -> list[dict[str, Any]]:
    """The entry row of every entity whose LAST entry was into one of ``statuses``.

    An entry is a history row whose ``to_status`` differs from its ``from_status`` (or has
    none); self-loops are not entries. Recovery compares these with the entities' current
    status and re-arms the timers of those still sitting there (arming is deduplicated).
    """
    entry = sa.or_(HISTORY.c.from_status.is_(None), HISTORY.c.from_status != HISTORY.c.to_status)
    last = (
        sa.select(sa.func.max(HISTORY.c.id).label("id"))
        .where(HISTORY.c.workflow == workflow, entry)
        .group_by(HISTORY.c.entity_id)
        .subquery()
    )
    stmt = (
        sa.select(HISTORY)
        .join(last, HISTORY.c.id == last.c.id)
        .where(HISTORY.c.to_status.in_(list(statuses)))
        .order_by(HISTORY.c.id)
    )
    return [dict(r) for r in conn.execute(stmt).mappings()]


QUERY_NAMES: tuple[str, ...] = tuple(n for n in __all__ if n != "QUERY_NAMES")
"""The name of every statement function, in one list (tests compare it to the module)."""

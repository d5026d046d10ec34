"""Statements over many entities at once: batches and claim recovery.

Each is a named, documented function (a test lists them), like those of
``wfnb.store.queries``, whose id and tenant helpers they share. Long id lists are cut into
chunks a statement takes; on PostgreSQL they travel as one array parameter instead
(``= ANY(:ids)``, ``unnest``), so a batch of any size is one statement.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from wfnb.spec import EntitySpec
from wfnb.store.queries import _id_value, _scoped
from wfnb.store.tables import HISTORY

__all__ = [
    "BULK_QUERY_NAMES",
    "CHUNK",
    "compare_and_swap_many",
    "restate_many",
    "select_claims",
    "select_entities",
    "select_entities_at",
]

CHUNK = 5000
"""Ids per ``IN`` list: at most 3 parameters each, under SQLite's (32766) limit."""


def _chunks(conn: sa.Connection, values: Sequence[Any]) -> list[Sequence[Any]]:
    """``values`` in pieces one statement takes: all at once as a PostgreSQL array."""
    size = max(1, len(values)) if conn.dialect.name == "postgresql" else CHUNK
    return [values[start : start + size] for start in range(0, len(values), size)]


def _array(column: sa.ColumnElement[Any], values: Sequence[Any]) -> sa.BindParameter[Any]:
    """One PostgreSQL array parameter of ``column``'s type."""
    return sa.bindparam(None, list(values), type_=postgresql.ARRAY(column.type))


def _is_any(
    conn: sa.Connection, column: sa.ColumnElement[Any], values: Sequence[Any]
) -> sa.ColumnElement[bool]:
    """``column IN (...)``; on PostgreSQL ``column = ANY(:array)``, one parameter however many."""
    if conn.dialect.name == "postgresql":
        return column == sa.any_(_array(column, values))
    return column.in_(values)


def _pairs_in(
    conn: sa.Connection,
    first: sa.ColumnElement[Any],
    second: sa.ColumnElement[Any],
    pairs: Sequence[tuple[Any, Any]],
) -> sa.ColumnElement[bool]:
    """``(first, second) IN (...)``; on PostgreSQL the pairs travel as two arrays.

    That is ``(first, second) IN (SELECT unnest(:firsts), unnest(:seconds))``.
    """
    if conn.dialect.name != "postgresql":
        return sa.tuple_(first, second).in_(pairs)
    firsts, seconds = zip(*pairs, strict=True)
    unnested = sa.select(
        sa.func.unnest(_array(first, firsts)), sa.func.unnest(_array(second, seconds))
    )
    return sa.tuple_(first, second).in_(unnested)


def select_entities(
    conn: sa.Connection,
    table: sa.Table,
    entity: EntitySpec,
    entity_ids: Sequence[Any],
    tenant_id: str | None,
) -> list[dict[str, Any]]:
    """``SELECT * FROM <table> WHERE id IN (...) [AND tenant = :t]``, one statement per chunk.

    On PostgreSQL the ids travel as one array (``id = ANY(:ids)``): one statement, and no
    thousands of parameters for SQLAlchemy to expand.
    """
    id_col = table.c[entity.id_column]
    values = [_id_value(table, entity, i) for i in entity_ids]
    rows: list[dict[str, Any]] = []
    for chunk in _chunks(conn, values):
        stmt = sa.select(table).where(_is_any(conn, id_col, chunk))
        rows.extend(
            dict(r) for r in conn.execute(_scoped(stmt, table, entity, tenant_id)).mappings()
        )
    return rows


def select_entities_at(
    conn: sa.Connection,
    table: sa.Table,
    entity: EntitySpec,
    statuses: Iterable[str],
    tenant_id: str | None,
) -> list[dict[str, Any]]:
    """``SELECT * FROM <table> WHERE status IN (...)``: entities sitting at claim statuses."""
    stmt = sa.select(table).where(table.c[entity.status_column].in_(sorted(statuses)))
    return [dict(r) for r in conn.execute(_scoped(stmt, table, entity, tenant_id)).mappings()]


def compare_and_swap_many(
    conn: sa.Connection,
    table: sa.Table,
    entity: EntitySpec,
    expected: Sequence[tuple[Any, int, str]],
) -> set[str]:
    """Bulk CAS of rows bound for different statuses, one statement (per chunk of ids).

    ::

        UPDATE <table>
        SET status = CASE WHEN id IN (...) THEN :to_1 WHEN id IN (...) THEN :to_2 ... END,
            version = version + 1
        WHERE id IN (SELECT id FROM <table> WHERE (id, version) IN (...)
                     ORDER BY id FOR UPDATE)
        RETURNING id

    Every row of the batch is locked by the one sub-select, in id order, whatever the
    order of ``expected`` and whatever status each row is bound for (accepted, rejected,
    failed): on PostgreSQL two batches over overlapping entities queue behind each other
    instead of deadlocking, which locking the rows one target status at a time (in an
    order that followed the input) did not guarantee. SQLite holds the database lock
    already. On PostgreSQL the pairs travel as two arrays,
    ``(id, version) IN (SELECT unnest(:ids), unnest(:versions))``, and each target's ids
    as one array, so a batch of any size is one statement.

    Args:
        conn: the transaction's connection.
        table: the reflected entity table.
        entity: the workflow's entity spec (column names).
        expected: ``(entity_id, version, to_status)``: the version read earlier in the
            transaction and the status the row moves to.

    Returns:
        The ids (as text) of the rows that matched; the others changed concurrently.
    """
    id_col, ver = table.c[entity.id_column], table.c[entity.version_column]
    status = table.c[entity.status_column]
    triples = [(_id_value(table, entity, i), v, to) for i, v, to in expected]
    won: set[str] = set()
    for chunk in _chunks(conn, triples):
        matching = (
            sa.select(id_col)
            .where(_pairs_in(conn, id_col, ver, [(i, v) for i, v, _ in chunk]))
            .order_by(id_col)
            .with_for_update()
        )
        stmt = (
            sa.update(table)
            .where(id_col.in_(matching))
            .values({status: _targets(conn, id_col, status, chunk), ver: ver + 1})
            .returning(id_col)
        )
        won.update(str(i) for i in conn.execute(stmt).scalars())
    return won


def _targets(
    conn: sa.Connection,
    id_col: sa.ColumnElement[Any],
    status: sa.ColumnElement[Any],
    triples: Sequence[tuple[Any, int, str]],
) -> sa.ColumnElement[Any]:
    """The new status of each row: one value, or a ``CASE`` with one branch per target."""
    by_target: dict[str, list[Any]] = {}
    for i, _, to in triples:
        by_target.setdefault(to, []).append(i)
    if len(by_target) == 1:
        return sa.bindparam(None, next(iter(by_target)), type_=status.type)
    branches = [
        (_is_any(conn, id_col, ids), sa.bindparam(None, to, type_=status.type))
        for to, ids in sorted(by_target.items())
    ]
    return sa.case(*branches, else_=status)


def restate_many(
    conn: sa.Connection,
    table: sa.Table,
    entity: EntitySpec,
    entity_ids: Sequence[Any],
    *,
    to_status: str,
    version_delta: int,
) -> int:
    """Re-point rows this transaction has just swapped: ``SET status=:s, version=version+:d``.

    Only called on rows the same transaction holds (it swapped them a moment ago): with
    ``version_delta=-1`` it undoes the swap (the entity ends exactly as read), with ``0``
    it changes where the swap goes (a rejection, a release, a failure status).
    """
    id_col, ver = table.c[entity.id_column], table.c[entity.version_column]
    values = [_id_value(table, entity, i) for i in entity_ids]
    count = 0
    for chunk in _chunks(conn, values):
        stmt = (
            sa.update(table)
            .where(_is_any(conn, id_col, chunk))
            .values({entity.status_column: to_status, entity.version_column: ver + version_delta})
        )
        count += conn.execute(stmt).rowcount
    return count


def select_claims(
    conn: sa.Connection, workflow: str, entity_ids: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """The latest ``claimed`` history row of each entity (``kind = 'claimed'``).

    Returns:
        entity id (text) → that row, for the ids that have one.
    """
    latest: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(conn, entity_ids):
        stmt = (
            sa.select(HISTORY)
            .where(
                HISTORY.c.workflow == workflow,
                HISTORY.c.kind == "claimed",
                _is_any(conn, HISTORY.c.entity_id, chunk),
            )
            .order_by(HISTORY.c.id)
        )
        for row in conn.execute(stmt).mappings():
            latest[row["entity_id"]] = dict(row)
    return latest


BULK_QUERY_NAMES: tuple[str, ...] = tuple(
    n for n in __all__ if n not in {"BULK_QUERY_NAMES", "CHUNK"}
)
"""The name of every statement function here, in one list (tests compare it to the module)."""

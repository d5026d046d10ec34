"""History in replay order, page by page: keyset pages of whole entities, Arrow or tuples.

Conformance judges history a page of entities at a time so its memory does not grow with
the history (ADR 0111). A page is at most ``page_rows`` rows of
``SELECT <REPLAY_COLUMNS> ... ORDER BY workflow, entity_id, id``, starting after the last
entity of the page before (``(workflow, entity_id) > (:w, :e)``, the
``ix_workflow_history_entity`` index); the rows of the page's last entity are held back
for the next page unless the page ended the history, so every page holds whole entities.
Each page is read as Arrow on the read's ADBC mirror (:mod:`wfnb.store.arrow`) when there
is one, else as the driver's tuples (ADR 0071). Entity statuses are read the same way.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa

from wfnb.spec import EntitySpec
from wfnb.store import arrow
from wfnb.store.audit import REPLAY_COLUMNS, STATUS_COLUMNS
from wfnb.store.errors import wrap_errors
from wfnb.store.tables import HISTORY

__all__ = [
    "PAGE_ROWS",
    "REPLAY_READ_NAMES",
    "Page",
    "read_statuses",
    "replay_pages",
    "select_replay_page",
    "select_statuses",
]

PAGE_ROWS = 200_000
"""Rows per page: what bounds conformance's memory (about 0.3 GB of work at this size)."""

Page = Any
"""A ``pyarrow.Table``, or ``(column names, driver tuples)`` without an ADBC mirror."""


def select_replay_page(
    workflows: Sequence[str], after: tuple[str, str] | None, limit: int | None
) -> sa.Select[Any]:
    """One page of history in replay order.

    ::

        SELECT id, workflow, entity_id, ... FROM workflow_history
        WHERE workflow IN (...) [AND (workflow, entity_id) > (:workflow, :entity_id)]
        ORDER BY workflow, entity_id, id [LIMIT :limit]
    """
    c = HISTORY.c
    stmt = sa.select(*(c[name] for name in REPLAY_COLUMNS)).where(c.workflow.in_(sorted(workflows)))
    if after is not None:
        stmt = stmt.where(sa.tuple_(c.workflow, c.entity_id) > sa.tuple_(*after))
    stmt = stmt.order_by(c.workflow, c.entity_id, c.id)
    return stmt.limit(limit) if limit is not None else stmt


def select_statuses(entity: EntitySpec, table: sa.Table) -> sa.Select[Any]:
    """``SELECT CAST(<id> AS TEXT) AS entity_id, <status> AS status FROM <table>``."""
    id_col = table.c[entity.id_column]
    entity_id: sa.ColumnElement[Any] = id_col
    if id_col.type.python_type is not str:
        entity_id = sa.cast(id_col, sa.String)
    return sa.select(
        entity_id.label(STATUS_COLUMNS[0]),
        table.c[entity.status_column].label(STATUS_COLUMNS[1]),
    )


def _tuples(conn: sa.Connection, stmt: sa.Select[Any]) -> Page:
    """``stmt``'s rows as the driver's tuples (no ``Row`` per row, ADR 0071)."""
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.params
    args: Any = (
        tuple(params[name] for name in compiled.positiontup or ())
        if compiled.positional
        else params
    )
    result = conn.exec_driver_sql(str(compiled), args)
    try:
        return [str(c.key) for c in stmt.selected_columns], list(result.cursor.fetchall())
    finally:
        result.close()


def _read(conn: sa.Connection, adbc: Any, stmt: sa.Select[Any]) -> Page:
    if adbc is not None:
        table = arrow.read_arrow(adbc, stmt, conn.dialect.name)
        if table is not None:
            return arrow.conform(table, stmt)[0]
    return _tuples(conn, stmt)


def read_statuses(conn: sa.Connection, adbc: Any, entity: EntitySpec, table: sa.Table) -> Page:
    """Every entity's id (as text) and status, as Arrow on ``adbc`` or as tuples."""
    with wrap_errors(f"read entity statuses of {entity.table}"):
        return _read(conn, adbc, select_statuses(entity, table))


def _size(page: Page) -> int:
    return int(page.num_rows) if hasattr(page, "num_rows") else len(page[1])


def _last_key(page: Page) -> tuple[str, str]:
    if hasattr(page, "num_rows"):
        last = page.slice(page.num_rows - 1).to_pylist()[0]
        return str(last["workflow"]), str(last["entity_id"])
    row = page[1][-1]
    return str(row[1]), str(row[2])


def _head(page: Page, rows: int) -> Page:
    return page.slice(0, rows) if hasattr(page, "num_rows") else (page[0], page[1][:rows])


def _held_back(page: Page, key: tuple[str, str]) -> int:
    """How many rows at the end of ``page`` belong to the entity ``key``."""
    if hasattr(page, "num_rows"):
        import pyarrow.compute as pc  # noqa: PLC0415  # only with an Arrow page

        same = pc.and_(
            pc.equal(page.column("workflow"), key[0]), pc.equal(page.column("entity_id"), key[1])
        )
        return int(pc.sum(same).as_py() or 0)
    n = 0
    for row in reversed(page[1]):
        if (row[1], row[2]) != key:
            break
        n += 1
    return n


def replay_pages(
    conn: sa.Connection, adbc: Any, workflows: Sequence[str], page_rows: int = PAGE_ROWS
) -> Iterator[Page]:
    """The history of ``workflows`` in replay order, as pages of whole entities."""
    after: tuple[str, str] | None = None
    limit = page_rows
    while True:
        with wrap_errors("read history for conformance"):
            page = _read(conn, adbc, select_replay_page(workflows, after, limit))
        size = _size(page)
        if size < limit:  # the end of the history: every entity in it is whole
            if size:
                yield page
            return
        key = _last_key(page)
        keep = size - _held_back(page, key)
        if keep == 0:  # one entity longer than a page: read it whole
            limit *= 2
            continue
        yield _head(page, keep)
        after = _last_entity_before(page, keep)
        limit = page_rows


def _last_entity_before(page: Page, keep: int) -> tuple[str, str]:
    return _last_key(_head(page, keep))


REPLAY_READ_NAMES: tuple[str, ...] = ("select_replay_page", "select_statuses")
"""The statement builders here (tests compare them to the module)."""

"""The direct entity read on SQLite: SQLAlchemy's row and types, and it steps aside when watched."""

from __future__ import annotations

import datetime as dt
import decimal
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from wfnb import testing
from wfnb.engine import Engine
from wfnb.exceptions import StoreError
from wfnb.spec import EntitySpec
from wfnb.store import Store, queries, wrap_errors
from wfnb.store.direct import direct_select, watched

ROWS: list[dict[str, Any]] = [
    {
        "id": "a1", "status": "draft", "version": 3, "tenant": "t1",
        "due": dt.date(2026, 11, 30), "sent_at": dt.datetime(2026, 11, 25, 9, 30, 15, 250),
        "paid": True, "amount": decimal.Decimal("12.50"), "rate": 0.25,
        "lines": {"kwh": [1.5, 2.0], "note": "é"}, "memo": None,
    },
    {
        "id": "a2", "status": "sent", "version": 0, "tenant": "t2",
        "due": None, "sent_at": None, "paid": False, "amount": None, "rate": None,
        "lines": None, "memo": "x",
    },
]  # fmt: skip


@pytest.fixture
def store(sqlite_url: str) -> Iterator[Store]:
    db = Store(sqlite_url)
    table = sa.Table(
        "invoices",
        sa.MetaData(),
        sa.Column("id", sa.String(20), primary_key=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("tenant", sa.String(20)),
        sa.Column("due", sa.Date),
        sa.Column("sent_at", sa.DateTime),
        sa.Column("paid", sa.Boolean),
        sa.Column("amount", sa.Numeric(10, 2)),
        sa.Column("rate", sa.Float),
        sa.Column("lines", sa.JSON),
        sa.Column("memo", sa.Text),
    )
    with db.engine.begin() as conn:
        table.create(conn)
        conn.execute(sa.insert(table), ROWS)
    yield db
    db.dispose()


SPEC = EntitySpec(table="invoices", tenant_column="tenant")


def read(store: Store, entity_id: str, tenant: str | None = None) -> dict[str, Any] | None:
    table = store.entity_table(SPEC)
    with store.transaction(readonly=True) as conn:
        return queries.select_entity(conn, table, SPEC, entity_id, tenant)


def read_through_sqlalchemy(store: Store, entity_id: str) -> dict[str, Any] | None:
    table = store.entity_table(SPEC)
    with store.transaction(readonly=True) as conn:
        row = conn.execute(sa.select(table).where(table.c.id == entity_id)).first()
        return None if row is None else row._asdict()


def test_the_direct_read_is_taken_on_an_unwatched_sqlite_store(store: Store) -> None:
    table = store.entity_table(SPEC)
    stmt = sa.select(table).where(table.c.id == sa.bindparam("wfnb_id"))
    direct = direct_select(stmt, store.engine.dialect)
    assert direct is not None
    assert direct.binds == ("wfnb_id",)
    assert direct.names == tuple(table.c.keys())
    with store.transaction(readonly=True) as conn:
        assert not watched(conn)


@pytest.mark.parametrize("entity_id", ["a1", "a2"])
def test_it_returns_what_sqlalchemy_returns_types_included(store: Store, entity_id: str) -> None:
    row = read(store, entity_id)
    assert row == read_through_sqlalchemy(store, entity_id)
    expected = next(r for r in ROWS if r["id"] == entity_id)
    assert row == expected
    assert row is not None
    assert {k: type(v) for k, v in row.items()} == {k: type(v) for k, v in expected.items()}


def test_tenant_scope_and_missing_rows(store: Store) -> None:
    assert read(store, "a1", tenant="t1") == ROWS[0]
    assert read(store, "a1", tenant="t2") is None
    assert read(store, "nope") is None


def test_a_driver_error_is_sqlalchemys_and_then_a_store_error(store: Store) -> None:
    table = store.entity_table(SPEC)
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE invoices")
    with (
        store.transaction(readonly=True) as conn,
        pytest.raises(sa.exc.OperationalError, match="no such table"),
    ):
        queries.select_entity(conn, table, SPEC, "a1", None)
    with (
        pytest.raises(StoreError, match="no such table"),
        wrap_errors("read"),
        store.transaction(readonly=True) as conn,
    ):
        queries.select_entity(conn, table, SPEC, "a1", None)


def test_postgresql_reads_through_sqlalchemy() -> None:
    table = sa.Table("t", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True))
    assert direct_select(sa.select(table), postgresql.dialect()) is None  # type: ignore[no-untyped-call]


def _seen_selects(store: Store) -> list[str]:
    store.entity_table(SPEC)  # reflected before listening: only the read is counted
    seen: list[str] = []

    def listener(*args: Any) -> None:
        if args[2].lstrip().upper().startswith("SELECT"):
            seen.append(args[2])

    sa.event.listen(store.engine, "before_cursor_execute", listener)
    try:
        assert read(store, "a1") == ROWS[0]
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", listener)
    return seen


def test_a_cursor_listener_sees_the_entity_select(store: Store) -> None:
    seen = _seen_selects(store)
    assert len(seen) == 1
    assert "FROM invoices" in seen[0]


@pytest.mark.parametrize("event", ["before_execute", "after_execute", "after_cursor_execute"])
def test_any_statement_listener_switches_to_sqlalchemy(store: Store, event: str) -> None:
    def listener(*_args: Any) -> None:
        return None

    sa.event.listen(store.engine, event, listener)
    try:
        with store.transaction(readonly=True) as conn:
            assert watched(conn)
    finally:
        sa.event.remove(store.engine, event, listener)
    with store.transaction(readonly=True) as conn:
        assert not watched(conn)


def test_an_error_listener_switches_to_sqlalchemy(store: Store) -> None:
    def listener(_context: Any) -> None:
        return None

    sa.event.listen(store.engine, "handle_error", listener)
    try:
        with store.transaction(readonly=True) as conn:
            assert watched(conn)
    finally:
        sa.event.remove(store.engine, "handle_error", listener)


def test_sql_logging_and_echo_switch_to_sqlalchemy(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="sqlalchemy.engine"):
        assert read(store, "a1") == ROWS[0]
    assert any("FROM invoices" in r.getMessage() for r in caplog.records)
    echoing = Store(sa.create_engine(store.engine.url, echo=True))
    try:
        with echoing.transaction(readonly=True) as conn:
            assert watched(conn)
    finally:
        echoing.engine.dispose()


def test_engine_steps_read_directly_and_still_count_under_a_listener(sqlite_url: str) -> None:
    """A step's statements, as a listener counts them: the entity SELECT is among them."""
    wf = testing.make_workflow()
    engine = Engine([wf], sqlite_url)
    engine.install()
    testing.create_entity_table(engine.db, wf)
    testing.insert_entities(engine.db, wf, ["t1", "t2"], status="resolved")
    statements: list[str] = []

    def listener(*args: Any) -> None:
        statements.append(args[2].split()[0].upper())

    assert engine.execute_step("ticket", "t1", "admin", step="close").to_status == "closed"
    sa.event.listen(engine.db, "before_cursor_execute", listener)
    try:
        assert engine.execute_step("ticket", "t2", "admin", step="close").to_status == "closed"
    finally:
        sa.event.remove(engine.db, "before_cursor_execute", listener)
        engine.dispose()
    assert statements == ["BEGIN", "SELECT", "UPDATE", "INSERT"]

"""The store: named statements, idempotent install, dialect specifics, the StoreError boundary."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.names import defined_functions
from wfnb import testing
from wfnb.engine import Engine
from wfnb.exceptions import StoreError
from wfnb.store import HISTORY, PERMANENT_FAILURE_LOG, Store, audit, bulk, queries, wrap_errors

EXPECTED_QUERIES = [
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


EXPECTED_BULK_QUERIES = [
    "compare_and_swap_many",
    "restate_many",
    "select_claims",
    "select_entities",
    "select_entities_at",
]

EXPECTED_AUDIT_QUERIES = [
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


def test_every_audit_statement_is_a_named_documented_function() -> None:
    assert sorted(audit.AUDIT_QUERY_NAMES) == EXPECTED_AUDIT_QUERIES
    assert set(defined_functions(audit)) == set(EXPECTED_AUDIT_QUERIES)
    for name in EXPECTED_AUDIT_QUERIES:
        assert (getattr(audit, name).__doc__ or "").strip(), name


def test_every_statement_is_a_named_documented_function() -> None:
    assert sorted(queries.QUERY_NAMES) == EXPECTED_QUERIES
    assert set(defined_functions(queries)) == set(EXPECTED_QUERIES)
    assert sorted(bulk.BULK_QUERY_NAMES) == EXPECTED_BULK_QUERIES
    assert set(defined_functions(bulk)) == set(EXPECTED_BULK_QUERIES)
    for module, names in ((queries, EXPECTED_QUERIES), (bulk, EXPECTED_BULK_QUERIES)):
        for name in names:
            assert (getattr(module, name).__doc__ or "").strip(), name


def test_history_columns_are_the_contract() -> None:
    assert list(HISTORY.c.keys()) == [
        "id", "workflow", "entity_table", "entity_id", "tenant_id", "step_key", "kind",
        "from_status", "to_status", "requester_type", "user_id", "correlation_id", "source",
        "config_hash", "config_rev", "metadata", "duration_ms", "changed_at",
        "entity_version",  # added to the contract's columns (ADR 0013), never renamed
    ]  # fmt: skip
    assert list(PERMANENT_FAILURE_LOG.c.keys()) == [
        "id", "workflow", "entity_table", "entity_id", "tenant_id", "status", "step_key",
        "error_code", "error_message", "metadata", "correlation_id", "failed_at",
    ]  # fmt: skip


def test_install_is_idempotent_and_creates_the_indexes(db_url: str) -> None:
    store = Store(db_url)
    try:
        store.install()
        store.install()
        inspector = sa.inspect(store.engine)
        names = {ix["name"] for ix in inspector.get_indexes("workflow_history")}
        assert {"ix_workflow_history_entity", "ix_workflow_history_changed_at"} <= names
        assert ("ix_workflow_history_metadata" in names) == store.is_postgres
    finally:
        store.dispose()


@pytest.mark.pg
def test_postgres_uses_jsonb_gin_and_forced_row_level_security(pg_url: str) -> None:
    store = Store(pg_url)
    try:
        store.install()
        with store.engine.connect() as conn:
            kind = conn.execute(
                sa.text(
                    "SELECT data_type FROM information_schema.columns "
                    "WHERE table_name = 'workflow_history' AND column_name = 'metadata' "
                    "AND table_schema = current_schema()"
                )
            ).scalar_one()
            flags = conn.execute(
                sa.text(
                    "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
                    "WHERE relnamespace = current_schema()::regnamespace "
                    "AND relname LIKE 'workflow_%' "
                    "AND relkind = 'r' ORDER BY relname"
                )
            ).all()
            policies = conn.execute(
                sa.text("SELECT count(*) FROM pg_policies WHERE schemaname = current_schema()")
            ).scalar_one()
        assert kind == "jsonb"
        assert [tuple(f) for f in flags] == [
            ("workflow_history", True, True),
            ("workflow_outbox", False, False),  # read by a worker of no tenant (ADR 0102)
            ("workflow_permanent_failure_log", True, True),
        ]
        assert policies == 2
    finally:
        store.dispose()


def test_driver_errors_become_store_errors(db_url: str) -> None:
    store = Store(db_url)
    try:
        with pytest.raises(StoreError) as info, store.transaction() as conn:
            conn.execute(sa.text("SELECT * FROM no_such_table"))
        assert info.value.code == "WF300"
        assert isinstance(info.value.__cause__, sa.exc.SQLAlchemyError)
    finally:
        store.dispose()


def test_wrap_errors_leaves_other_exceptions_alone() -> None:
    with pytest.raises(KeyError), wrap_errors("nothing"):
        raise KeyError("x")

    @wrap_errors("decorated")
    def broken() -> None:
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("gone"))

    with pytest.raises(StoreError, match="decorated failed"):
        broken()


def test_the_engine_never_leaks_sqlalchemy_errors(db_url: str) -> None:
    wf = testing.make_workflow()
    engine = Engine([wf], db_url)
    try:
        engine.install()  # no entity table was created
        with pytest.raises(StoreError):
            engine.execute_step("ticket", "e0", "user")
    finally:
        engine.dispose()


def test_integer_ids_are_accepted_as_text(db_url: str) -> None:
    wf = testing.make_workflow(entity={"table": "numbered"})
    engine = Engine([wf], db_url)
    try:
        engine.install()
        testing.create_entity_table(engine.db, wf, id_type=sa.Integer())
        testing.insert_entity(engine.db, wf, 7)
        assert engine.execute_step("ticket", "7", "admin").to_status == "triaged"
        assert engine.execute_step("ticket", 7, "system").to_status == "resolved"
        assert [
            r.to_status for r in engine.execute_batch("ticket", ["7"], "admin", step="close")
        ] == ["closed"]
    finally:
        engine.dispose()


def test_a_url_without_driver_means_psycopg() -> None:
    from wfnb.store import make_engine

    engine = make_engine("postgresql://user@localhost/db")
    assert engine.dialect.driver == "psycopg"
    engine.dispose()


def test_swap_and_record_writes_both_or_nothing(db_url: str) -> None:
    from datetime import UTC, datetime

    wf = testing.make_workflow()
    engine = Engine([wf], db_url)
    engine.install()
    testing.create_entity_table(engine.db, wf)
    table = sa.Table(wf.entity.table, sa.MetaData(), autoload_with=engine.db)
    testing.insert_entities(engine.db, wf, ["t1"], status="draft", version=3)
    history = {
        "workflow": wf.name, "entity_table": wf.entity.table, "entity_id": "t1",
        "kind": "initiated", "step_key": "submit", "from_status": "draft",
        "to_status": "submitted", "config_hash": wf.config_hash, "metadata": {"k": [1]},
        "changed_at": datetime(2026, 1, 1, tzinfo=UTC), "entity_version": 999,
    }  # fmt: skip
    statements: list[str] = []
    sa.event.listen(engine.db, "before_cursor_execute", lambda *a: statements.append(a[2]))
    with engine.db.begin() as conn:
        stale = queries.swap_and_record(
            conn, table, wf.entity, "t1", version=2, to_status="submitted", history=history
        )
        done = queries.swap_and_record(
            conn, table, wf.entity, "t1", version=3, to_status="submitted", history=history
        )
    assert stale is None  # the swap matched nothing: no history row
    assert isinstance(done, int)  # the history row's id
    writes = [s for s in statements if not s.startswith(("BEGIN", "SAVEPOINT", "RELEASE"))]
    if engine.db.dialect.name == "postgresql":
        assert len(writes) == 2  # one statement per call: the swap feeds the INSERT
    else:
        assert len(writes) == 3  # a stale UPDATE alone, then UPDATE + INSERT
    with engine.db.connect() as conn:
        rows = conn.execute(
            sa.select(HISTORY.c.entity_version, HISTORY.c.to_status, HISTORY.c.metadata)
        ).all()
        entity = conn.execute(sa.select(table.c.status, table.c.version)).one()
    assert [tuple(r) for r in rows] == [(4, "submitted", {"k": [1]})]  # version from the swap
    assert tuple(entity) == ("submitted", 4)
    engine.dispose()


def test_a_callers_engine_keeps_its_pool_and_a_store_made_one_is_disposed(db_url: str) -> None:
    from wfnb import conformance

    wf = testing.make_workflow()
    theirs = sa.create_engine(db_url)
    engine = Engine([wf], theirs)  # on SQLite this attaches the connection setup, once
    pool = theirs.pool
    engine.install()
    testing.create_entity_table(engine.db, wf)
    engine.dispose()
    conformance(theirs, [wf])
    assert theirs.pool is pool  # SQLAlchemy's dispose() replaces the pool
    theirs.dispose()

    ours = Store(db_url)
    made = ours.engine.pool
    ours.dispose()
    assert ours.engine.pool is not made


def test_entity_tables_reflect_by_schema_qualified_name_and_a_missing_one_is_named(
    db_url: str,
) -> None:
    wf = testing.make_workflow()
    engine = Engine([wf], db_url)
    engine.install()
    testing.create_entity_table(engine.db, wf)
    with engine.store.transaction(readonly=True) as conn:
        schema = "main" if conn.dialect.name == "sqlite" else conn.dialect.default_schema_name
        table = queries.reflect_entity_table(conn, f"{schema}.{wf.entity.table}")
        assert (table.schema, table.name) == (schema, wf.entity.table)
        assert {"id", "status", "version"} <= set(table.c.keys())
        with pytest.raises(StoreError, match="entity table 'nowhere' does not exist"):
            queries.reflect_entity_table(conn, "nowhere")
    engine.dispose()


def test_the_timer_ledger_statements_are_named_documented_functions() -> None:
    from wfnb.store import ledger

    functions = defined_functions(ledger)
    assert sorted(functions) == [
        "claim_key",
        "create_ledger",
        "ledger_keys",
        "ledger_state",
        "lock_install",
        "mark_finished",
        "procrastinate_installed",
        "rearm_key",
        "record_job_id",
        "try_lock_recovery",
        "waiting_job_id",
    ]
    assert all(fn.__doc__ for fn in functions.values())

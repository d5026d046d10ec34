"""A dry-run never changes the source: rows, sequences, even under a hostile use case.

PostgreSQL runs a dry-run in a READ ONLY session (writable: the temporary shadows only),
so a write to a table not shadowed fails instead of reaching the source (and its
sequence), and the dry-run shadows that table and runs again (ADR 0064); shadow
sequences continue from the source's; a raw ``COMMIT`` sent by a use case on
``ctx.conn`` writes nothing to the source, and the kept sandbox it poisoned is cleaned
by the next reset. SQLite gets the same tests. Schema-qualified entity tables dry-run on
both dialects.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

import wfnb.sandbox
from tests.unit.sandbox.sources import (
    NOTES,
    TENANTED_WFS,
    checksum,
    driver_of,
    fill_tenants,
    workflow_on,
)
from wfnb import testing
from wfnb.engine import Engine, Outcome
from wfnb.engine.usecases import Result, StepContext
from wfnb.exceptions import StoreError, WfnbUsageError
from wfnb.sandbox import dry_run
from wfnb.spec import Workflows


@pytest.fixture
def source(db_url: str) -> Iterator[str]:
    fill_tenants(db_url)
    yield db_url
    wfnb.sandbox.hosts.close_all()  # before the schema is dropped


def _note(ctx: StepContext, body: str = "new") -> int:
    """Insert a note the way a use case does (unqualified: the shadow when there is one)."""
    return int(
        ctx.conn.execute(
            sa.insert(NOTES).values(entity_id=ctx.entity_id, body=body).returning(NOTES.c.id)
        ).scalar_one()
    )


def past_the_guard(ctx: StepContext, sql: str) -> None:
    """Send ``sql`` on the driver connection as a cursor the sandbox did not hand out."""
    driver: Any = driver_of(ctx)
    if ctx.conn.dialect.name == "postgresql":
        import psycopg

        psycopg.Cursor(driver).execute(sql)
    else:
        driver.execute(sql)


def _run(db: str, fn: Any, *, tables: tuple[str, ...] = ()) -> wfnb.sandbox.DryRun:
    return dry_run(
        db,
        TENANTED_WFS,
        "ticket",
        "a1",
        "admin",
        step="resolve",
        use_cases={"act": fn},
        tenant_id="acme",
        tables=tables,
    )


def _source_table(db: str, name: str) -> str:
    """How a use case names the source's own table, past any shadow."""
    if db.startswith("sqlite"):
        return f"wfnb_src.{name}"
    engine = sa.create_engine(db)
    with engine.connect() as conn:
        schema = conn.execute(sa.text("SELECT current_schema()")).scalar_one()
    engine.dispose()
    return f'"{schema}".{name}'


def test_a_shadow_sequence_continues_from_the_source(source: str) -> None:
    """The source has notes 1-3: a dry-run's new note is 4, every time, and nothing collides."""
    ids: list[int] = []

    def act(ctx: StepContext) -> Result:
        ids.append(_note(ctx))
        return Result.ok()

    before = checksum(source)
    for _ in range(3):
        dr = _run(source, act, tables=("notes",))
        assert dr.result.outcome is Outcome.TRANSITIONED, dr.why
    assert ids == [4, 4, 4]
    assert checksum(source) == before


def test_a_write_to_a_table_not_shadowed_is_shadowed_and_changes_nothing(source: str) -> None:
    """Without ``tables=`` the dry-run shadows the table its use case writes (ADR 0064).

    The first write is refused by the read-only source; the dry-run shadows ``notes``
    (rows copied, sequence following the source's) and runs again: note 4, every time.
    """
    ids: list[int] = []

    def act(ctx: StepContext) -> Result:
        ids.append(_note(ctx))
        return Result.ok()

    before = checksum(source)
    for _ in range(2):
        dr = _run(source, act)
        assert dr.result.outcome is Outcome.TRANSITIONED, dr.why
    assert ids == [4, 4]
    assert checksum(source) == before  # rows and (PostgreSQL) the notes sequence


def test_a_write_to_the_source_table_by_its_qualified_name_fails_and_changes_nothing(
    source: str,
) -> None:
    """A use case naming the source's own table past the shadow: refused on both dialects."""
    target = _source_table(source, "notes")

    def act(ctx: StepContext) -> Result:
        ctx.conn.execute(sa.text(f"INSERT INTO {target} (entity_id, body) VALUES ('x', 'y')"))
        return Result.ok()

    before = checksum(source)
    for _ in range(2):
        dr = _run(source, act)
        assert dr.result.outcome is Outcome.FAILED
        assert dr.why is not None
        assert "read" in dr.why  # "readonly database" / "read-only transaction"
    assert checksum(source) == before  # rows and (PostgreSQL) the notes sequence


def test_a_raw_commit_in_a_use_case_writes_nothing_to_the_source(source: str) -> None:
    """A use case writes the source's own table, swallows the error, then sends COMMIT."""
    target = _source_table(source, "notes")
    leak = sa.text(f"INSERT INTO {target} (entity_id, body) VALUES ('x', 'leak')")

    def act(ctx: StepContext) -> Result:
        for _ in range(2):
            with contextlib.suppress(sa.exc.DBAPIError):  # hostile: carry on regardless
                ctx.conn.execute(leak)
            past_the_guard(ctx, "COMMIT")
        return Result.ok()

    before = checksum(source)
    for _ in range(3):
        try:
            dr = _run(source, act, tables=("notes",))
        except StoreError:
            continue  # the step's own transaction was ended under it: a coded error
        assert dr.result.outcome is not Outcome.TRANSITIONED or dr.history
    assert checksum(source) == before
    normal = dry_run(
        source, TENANTED_WFS, "ticket", "a1", "admin", step="resolve", tenant_id="acme"
    )
    assert normal.result.outcome is Outcome.TRANSITIONED, normal.why


def test_a_sandbox_poisoned_by_a_raw_commit_resets(source: str) -> None:
    """The commit kept the entity's copy in the shadow; the next dry-run starts clean."""

    def commit(ctx: StepContext) -> Result:
        _note(ctx, "committed")
        past_the_guard(ctx, "COMMIT")
        return Result.ok()

    def act(ctx: StepContext) -> Result:
        _note(ctx)
        return Result.ok()

    before = checksum(source)
    _run(source, commit, tables=("notes",))
    for _ in range(2):
        dr = _run(source, act, tables=("notes",))
        assert dr.result.outcome is Outcome.TRANSITIONED, dr.why
        assert dr.before is not None
        assert dr.before["status"] == "triaged"
        assert [h["to_status"] for h in dr.history] == ["resolving", "resolved"]
    with wfnb.sandbox.hosts.borrow(source, TENANTED_WFS, ("notes",)) as box:
        assert [n["body"] for n in box.rows("notes")] == ["old"] * 3
        assert box.rows("tickets") == []
        assert box.rows("workflow_history") == []
    assert checksum(source) == before


def test_a_raw_rollback_in_a_use_case_changes_nothing(source: str) -> None:
    def act(ctx: StepContext) -> Result:
        past_the_guard(ctx, "ROLLBACK")
        _note(ctx)
        return Result.ok()

    before = checksum(source)
    _run(source, act, tables=("notes",))
    dr = dry_run(source, TENANTED_WFS, "ticket", "a1", "admin", step="resolve", tenant_id="acme")
    assert dr.result.outcome is Outcome.TRANSITIONED, dr.why
    assert checksum(source) == before


@pytest.mark.pg
@pytest.mark.parametrize(
    "sql",
    [
        "COMMIT",
        "ROLLBACK",
        "END",
        "SELECT 1; COMMIT",
        "BEGIN READ WRITE",
        "SET TRANSACTION READ WRITE",
        "SET default_transaction_read_only = off",
        "RESET ALL",
    ],
)
def test_transaction_control_from_a_use_case_is_refused_on_postgres(pg_url: str, sql: str) -> None:
    """Through SQLAlchemy or the driver connection: WF206, naming the refusal."""
    fill_tenants(pg_url)
    nested: list[int] = []

    def act(ctx: StepContext) -> Result:
        with ctx.conn.begin_nested():  # a savepoint of the use case's own is fine
            nested.append(_note(ctx))
        ctx.conn.exec_driver_sql(sql)
        return Result.ok()

    def driver(ctx: StepContext) -> Result:
        driver_of(ctx).execute(sql)
        return Result.ok()

    before = checksum(pg_url)
    try:
        for fn in (act, driver):
            dr = _run(pg_url, fn, tables=("notes",))
            assert dr.result.outcome is Outcome.FAILED
            assert dr.why is not None
            assert dr.why.startswith("WF206")
            assert "refuses" in dr.why  # the sandbox's guard (or the engine's own, first)
        assert nested == [4]
        assert _run(pg_url, testing.act).result.outcome is Outcome.TRANSITIONED
    finally:
        wfnb.sandbox.hosts.close_all()
    assert checksum(pg_url) == before


def test_qualified_module_tables_are_a_usage_error(source: str) -> None:
    with pytest.raises(WfnbUsageError, match="unqualified"):
        _run(source, testing.act, tables=("other.notes",))


# --- schema-qualified entity tables ------------------------------------------------------


def _things(schema: str) -> sa.Table:
    wf = workflow_on(f"{schema}.things")
    status: sa.ColumnClause[str] = sa.column("status", sa.String)
    return sa.Table(
        "things",
        sa.MetaData(),
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("status", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="0"),
        sa.Column("title", sa.String(200)),
        sa.CheckConstraint(status.in_(wf.status_types), name="ck_things_status"),
        schema=schema,
    )


def _fill_things(db: sa.Engine | str, schema: str) -> Workflows:
    wf = workflow_on(f"{schema}.things")
    wfs = Workflows({"ticket": wf})
    engine = Engine(wfs, db)
    engine.install()
    with engine.db.begin() as conn:
        _things(schema).create(conn)
    testing.insert_entities(engine.db, wf, ["t0", "t1"])
    engine.execute_step("ticket", "t1", "admin").raise_for_error()  # draft -> triaged
    engine.dispose()
    return wfs


def _dry_runs_on_things(db: sa.Engine | str, wfs: Workflows) -> None:
    for _ in range(2):
        dr = dry_run(db, wfs, "ticket", "t1", "admin", step="resolve")
        assert dr.result.outcome is Outcome.TRANSITIONED, dr.why
        assert dr.changes["status"] == ("triaged", "resolved")
        assert dr.history[0]["entity_table"] == next(iter(wfs.values())).entity.table
    missing = dry_run(db, wfs, "ticket", "t9", "admin", step="resolve")
    assert missing.result.error is not None
    assert missing.result.error.code == "WF201"
    with wfnb.sandbox(db, wfs) as sb:
        assert sb.engine.execute_step("ticket", "t0", "user").final_status == "triaged"
        name = next(iter(wfs.values())).entity.table
        assert [r["id"] for r in sb.rows(name)] == ["t0"]


@pytest.fixture
def pg_schema(pg_url: str) -> Iterator[str]:
    schema = f"evs_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema
    finally:
        wfnb.sandbox.hosts.close_all()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.mark.pg
def test_a_schema_qualified_entity_table_dry_runs_on_postgres(pg_url: str, pg_schema: str) -> None:
    wfs = _fill_things(pg_url, pg_schema)
    things = _things(pg_schema)
    before = checksum(pg_url)
    reader = sa.create_engine(pg_url)
    with reader.connect() as conn:
        rows = conn.execute(sa.select(things).order_by(things.c.id)).all()
    _dry_runs_on_things(pg_url, wfs)
    with reader.connect() as conn:
        assert conn.execute(sa.select(things).order_by(things.c.id)).all() == rows
    reader.dispose()
    assert checksum(pg_url) == before


def test_a_schema_qualified_entity_table_dry_runs_on_an_attached_sqlite_database(
    tmp_path: Path,
) -> None:
    attached = tmp_path / "evs.db"
    db = sa.create_engine(f"sqlite:///{tmp_path / 'main.db'}")

    @event.listens_for(db, "connect")
    def _attach(dbapi: Any, _record: Any) -> None:
        dbapi.execute("ATTACH DATABASE ? AS evs", (str(attached),))

    wfs = _fill_things(db, "evs")
    before = checksum(f"sqlite:///{attached}"), checksum(db)
    _dry_runs_on_things(db, wfs)
    assert (checksum(f"sqlite:///{attached}"), checksum(db)) == before
    db.dispose()


def test_main_qualified_entity_table_dry_runs_on_sqlite(sqlite_url: str) -> None:
    wfs = _fill_things(sqlite_url, "main")
    before = checksum(sqlite_url)
    _dry_runs_on_things(sqlite_url, wfs)
    assert checksum(sqlite_url) == before


def test_a_qualified_entity_table_that_does_not_exist_is_a_store_error(sqlite_url: str) -> None:
    fill_tenants(sqlite_url)
    wfs = Workflows({"ticket": workflow_on("nowhere.things")})
    with pytest.raises(StoreError, match=r"'nowhere\.things' does not exist"):
        dry_run(sqlite_url, wfs, "ticket", "t0", "admin")


# --- the example domain: sending an invoice writes the notifications outbox --------------


def test_dry_run_of_send_with_the_notifications_table(energy_engine: Engine) -> None:
    """The issue's case: ``send`` with ``tables=("notifications",)`` on a source with mail."""
    from wfnb.examples.energy import schema

    db = energy_engine.db
    with db.begin() as conn:
        sent = schema.insert_invoice(conn, status="approved")
        invoice = schema.insert_invoice(conn, status="approved")
    real = energy_engine.execute_step(
        "invoice", sent, "admin", step="send", tenant_id="community_a"
    )
    assert real.ok, real
    url = db.url.render_as_string(hide_password=False)
    before = checksum(db)
    try:
        for _ in range(3):
            dr = dry_run(
                url,
                energy_engine.workflows,
                "invoice",
                invoice,
                "admin",
                step="send",
                tenant_id="community_a",
                tables=("notifications",),
            )
            assert dr.result.outcome is Outcome.TRANSITIONED, dr.why
            assert dr.changes["status"] == ("approved", "sent")
            assert "invoice.sent" in [e.name for e in dr.events]
        unshadowed = dry_run(
            url, energy_engine.workflows, "invoice", invoice, "admin", step="send",
            tenant_id="community_a",
        )  # fmt: skip
        # without tables=: the dry-run shadows notifications by itself (ADR 0064)
        assert unshadowed.result.outcome is Outcome.TRANSITIONED, unshadowed.why
        assert unshadowed.changes["status"] == ("approved", "sent")
    finally:
        wfnb.sandbox.hosts.close_all()
    assert checksum(db) == before

"""Dry-runs driven repeatedly and with hostile use cases: the source never changes.

Each test checksums the source (every table's rows, every sequence of its schema)
before and after many dry-runs, and tenants run on a real non-superuser role, with and
without a row-level-security policy on the entity table. The hostile use cases send a
raw COMMIT or ROLLBACK on the driver connection under the engine, or write the source's
own table (and swallow the error). Kept under 60 s.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa

import wfnb.sandbox
from tests.roles import login_role
from tests.unit.sandbox.sources import (
    SECRET,
    TENANTED,
    TENANTED_WFS,
    checksum,
    driver_of,
    fill_tenants,
    workflow_on,
)
from wfnb.engine import Outcome
from wfnb.engine.usecases import Result, StepContext
from wfnb.exceptions import StoreError
from wfnb.sandbox import DryRun, dry_run
from wfnb.spec import Workflows
from wfnb.store import queries

pytestmark = pytest.mark.pg
ROUNDS = 4
RLS_ONLY = Workflows({"ticket": workflow_on("tickets")})
"""The same table with no tenant column declared: row-level security is the only filter."""

Hostile = Callable[[StepContext], Result]


def _driver(ctx: StepContext, sql: str) -> None:
    """``sql`` on the driver connection: the guarded cursor refuses it, so go past it."""
    import psycopg

    with contextlib.suppress(psycopg.ProgrammingError):
        driver_of(ctx).execute(sql)
    psycopg.Cursor(driver_of(ctx)).execute(sql)


def _hostile_cases(schema: str) -> dict[str, Hostile]:
    leak = sa.text(f"INSERT INTO \"{schema}\".notes (entity_id, body) VALUES ('x', 'leak')")
    update = sa.text(f"UPDATE \"{schema}\".tickets SET title = 'leak'")

    def write_source(ctx: StepContext) -> Result:
        for stmt in (leak, update):
            with contextlib.suppress(sa.exc.DBAPIError):
                ctx.conn.execute(stmt)
            _driver(ctx, "COMMIT")
        return Result.ok()

    def commit(ctx: StepContext) -> Result:
        ctx.conn.execute(sa.text("INSERT INTO notes (entity_id, body) VALUES ('x', 'shadow')"))
        _driver(ctx, "COMMIT")
        return Result.ok()

    def rollback(ctx: StepContext) -> Result:
        _driver(ctx, "ROLLBACK")
        return Result.ok()

    def set_read_write(ctx: StepContext) -> Result:
        with contextlib.suppress(sa.exc.DBAPIError):
            ctx.conn.execute(sa.text("SET TRANSACTION READ WRITE"))
        with contextlib.suppress(sa.exc.DBAPIError):
            ctx.conn.execute(leak)
        return Result.ok()

    return {
        "write_source": write_source,
        "commit": commit,
        "rollback": rollback,
        "set_read_write": set_read_write,
    }


@pytest.fixture
def filled(pg_url: str) -> Iterator[str]:
    fill_tenants(pg_url)
    yield pg_url
    wfnb.sandbox.hosts.close_all()


def _schema(url: str) -> str:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        schema = str(conn.execute(sa.text("SELECT current_schema()")).scalar_one())
    engine.dispose()
    return schema


@pytest.fixture
def reader_role(filled: str) -> Iterator[str]:
    """A LOGIN role, no superuser, no BYPASSRLS, granted SELECT only; its URL."""
    with login_role(filled, "wfnb_sbx", "SELECT", "SELECT") as url:
        yield url


def _with_policy(url: str) -> None:
    """Row-level security on the entity table: the engine's own tenant policy."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        tickets = queries.reflect_entity_table(conn, "tickets")
        queries.enable_row_level_security(conn, tickets)
    engine.dispose()


def _nothing_of_globex(dr: DryRun) -> None:
    assert dr.result.error is not None
    assert dr.result.error.code == "WF201"
    assert (dr.before, dr.after, dr.changes, dr.history) == (None, None, {}, ())
    assert SECRET not in repr(dr) + dr._repr_html_()


def _tenant_rounds(url: str, wfs: Workflows) -> None:
    for _ in range(ROUNDS):
        _nothing_of_globex(
            dry_run(url, wfs, "ticket", "b1", "admin", step="resolve", tenant_id="acme")
        )
        own = dry_run(url, wfs, "ticket", "b1", "admin", step="resolve", tenant_id="globex")
        assert own.before is not None
        assert own.before["title"] == SECRET
        assert own.changes["status"] == ("triaged", "resolved")
        acme = dry_run(url, wfs, "ticket", "a1", "admin", step="resolve", tenant_id="acme")
        assert acme.result.outcome is Outcome.TRANSITIONED, acme.why


@pytest.mark.parametrize("policy", [False, True], ids=["no-policy", "policy"])
def test_tenants_on_a_non_superuser_role_see_nothing_of_each_other(
    filled: str, reader_role: str, policy: bool
) -> None:
    if policy:
        _with_policy(filled)
    before = checksum(filled)
    _tenant_rounds(reader_role, TENANTED_WFS)
    if policy:  # the policy alone filters: no tenant column declared
        _tenant_rounds(reader_role, RLS_ONLY)
    with wfnb.sandbox(reader_role, TENANTED_WFS) as sb:
        step = sb.engine.execute_step("ticket", "b1", "admin", step="resolve", tenant_id="acme")
        assert step.error is not None
        assert step.error.code == "WF201"
        assert [r["id"] for r in sb.rows("tickets")] == []
        assert sb.rows("workflow_history") == []
    assert checksum(filled) == before


def test_one_sandbox_used_by_two_tenants_keeps_them_apart_under_row_security(
    filled: str, reader_role: str
) -> None:
    """Tenancy by policy alone: globex's copy stays invisible to acme's later calls."""
    _with_policy(filled)
    before = checksum(filled)
    with wfnb.sandbox(reader_role, RLS_ONLY) as sb:
        for _ in range(2):
            own = sb.engine.execute_step(
                "ticket", "b1", "admin", step="resolve", tenant_id="globex"
            )
            assert own.ok, own
            other = sb.engine.execute_step("ticket", "b1", "admin", step="close", tenant_id="acme")
            assert other.error is not None
            assert other.error.code == "WF201"
            seen = sb.engine.observe("ticket", "b1", "closed", source="email", tenant_id="acme")
            assert seen.error is not None
            assert seen.error.code == "WF201"
            assert [r["status"] for r in sb.rows("tickets")] == ["resolved"]  # globex's
            # a call with no tenant after tenants' calls: the policy shows it no tenant's row
            unset = sb.engine.execute_step("ticket", "b1", "admin", step="close")
            assert unset.error is not None
            assert unset.error.code == "WF201"
            sb.reset()
    assert checksum(filled) == before


@pytest.mark.parametrize("role", ["superuser", "reader"])
def test_repeated_hostile_dry_runs_leave_the_source_as_it_was(
    filled: str, reader_role: str, role: str
) -> None:
    url = filled if role == "superuser" else reader_role
    cases = _hostile_cases(_schema(filled))
    before = checksum(filled)
    for _ in range(ROUNDS):
        for name, fn in cases.items():
            for tables in ((), ("notes",)):
                with contextlib.suppress(StoreError):  # a step whose transaction was ended
                    dry_run(
                        url,
                        TENANTED_WFS,
                        "ticket",
                        "a1",
                        "admin",
                        step="resolve",
                        use_cases={"act": fn},
                        tenant_id="acme",
                        tables=tables,
                    )
                normal = dry_run(
                    url, TENANTED_WFS, "ticket", "a1", "admin", step="resolve", tenant_id="acme"
                )
                assert normal.result.outcome is Outcome.TRANSITIONED, (name, tables, normal.why)
                assert normal.before is not None
                assert normal.before["status"] == "triaged"
    assert checksum(filled) == before


def test_repeated_dry_runs_of_a_module_table_writer_keep_sequences(filled: str) -> None:
    ids: list[int] = []

    def act(ctx: StepContext) -> Result:
        found = ctx.conn.execute(
            sa.text("INSERT INTO notes (entity_id, body) VALUES ('a1', 'x') RETURNING id")
        )
        ids.append(int(found.scalar_one()))
        return Result.ok()

    before = checksum(filled)
    for _ in range(ROUNDS * 3):
        dr = dry_run(
            filled,
            TENANTED_WFS,
            "ticket",
            "a1",
            "admin",
            step="resolve",
            use_cases={"act": act},
            tenant_id="acme",
            tables=("notes",),
        )
        assert dr.result.outcome is Outcome.TRANSITIONED, dr.why
    assert set(ids) == {4}
    assert checksum(filled) == before
    assert TENANTED.entity.tenant_column == "tenant_id"


def test_a_module_table_under_row_security_is_copied_as_the_runs_tenant(
    filled: str, reader_role: str
) -> None:
    """``tables=`` copies what the run's tenant sees: its rows, not another's, not none."""
    ledger = sa.Table(
        "ledger",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64)),
        sa.Column("amount", sa.Integer, nullable=False),
    )
    admin = sa.create_engine(filled)
    with admin.begin() as conn:
        ledger.create(conn)
        conn.execute(sa.insert(ledger), [{"tenant_id": t, "amount": 1} for t in ("acme", "globex")])
        queries.enable_row_level_security(conn, ledger)
        conn.execute(sa.text(f'GRANT SELECT ON ledger TO "{sa.make_url(reader_role).username}"'))
    admin.dispose()
    seen: list[list[str]] = []

    def act(ctx: StepContext) -> Result:
        seen.append(list(ctx.conn.execute(sa.text("SELECT tenant_id FROM ledger")).scalars()))
        return Result.ok()

    before = checksum(filled)
    for tenant, eid in (("acme", "a1"), ("globex", "b1"), ("acme", "a1")):
        dr = dry_run(
            reader_role,
            TENANTED_WFS,
            "ticket",
            eid,
            "admin",
            step="resolve",
            use_cases={"act": act},
            tenant_id=tenant,
            tables=("ledger",),
        )
        assert dr.result.outcome is Outcome.TRANSITIONED, dr.why
    assert seen == [["acme"], ["globex"], ["acme"]]
    assert checksum(filled) == before

"""A dry-run or sandbox call as one tenant brings nothing of another tenant's entity back.

The engine answers WF201 for another tenant's entity; the sandbox must answer the same
and hold nothing of it: no "before" row, no diff, no shadow copy, no history rows.
On SQLite and on PostgreSQL whose entity table has no RLS policy (the superuser test
role: the tenant column filter is all there is). Non-superuser roles, with and without
policies, are in tests/integration/test_reliability_sandbox.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import wfnb.sandbox
from tests.unit.jupyter.conftest import Shell, ip  # noqa: F401  # the magic's shell
from tests.unit.sandbox.sources import SECRET, TENANTED, TENANTED_WFS, checksum, fill_tenants
from wfnb.engine import Outcome
from wfnb.engine import context as request_context
from wfnb.sandbox import dry_run


@pytest.fixture
def tenants(db_url: str) -> Iterator[str]:
    fill_tenants(db_url)
    yield db_url
    wfnb.sandbox.hosts.close_all()  # before the schema is dropped


def _nothing_of_globex(dr: wfnb.sandbox.DryRun) -> None:
    assert dr.result.outcome is Outcome.FAILED
    assert dr.result.error is not None
    assert dr.result.error.code == "WF201"
    assert dr.before is None
    assert dr.after is None
    assert dr.changes == {}
    assert dr.history == ()
    assert dr.failures == ()
    assert dr.events == ()
    assert dr.timers == ()
    for shown in (repr(dr), dr._repr_html_()):
        assert SECRET not in shown
        assert "globex" not in shown


def test_a_dry_run_as_another_tenant_returns_nothing_of_its_entity(tenants: str) -> None:
    before = checksum(tenants)
    _nothing_of_globex(
        dry_run(tenants, TENANTED_WFS, "ticket", "b1", "admin", step="resolve", tenant_id="acme")
    )
    # positive control: as its own tenant the same dry-run sees the row
    own = dry_run(
        tenants, TENANTED_WFS, "ticket", "b1", "admin", step="resolve", tenant_id="globex"
    )
    assert own.before is not None
    assert own.before["title"] == SECRET
    assert own.changes["status"] == ("triaged", "resolved")
    # and again as acme, on the kept sandbox that just held globex's row
    _nothing_of_globex(
        dry_run(tenants, TENANTED_WFS, "ticket", "b1", "admin", step="resolve", tenant_id="acme")
    )
    assert checksum(tenants) == before


def test_a_sandbox_call_as_another_tenant_copies_nothing_into_the_sandbox(tenants: str) -> None:
    with wfnb.sandbox(tenants, TENANTED_WFS) as sb:
        step = sb.engine.execute_step("ticket", "b1", "admin", step="resolve", tenant_id="acme")
        assert step.error is not None
        assert step.error.code == "WF201"
        batch = sb.engine.execute_batch(
            "ticket", ["a1", "b1"], "admin", step="resolve", tenant_id="acme"
        )
        assert [r.error.code if r.error else r.outcome.value for r in batch] == [
            "transitioned",
            "WF201",
        ]
        seen = sb.engine.observe("ticket", "b1", "closed", source="email", tenant_id="acme")
        assert seen.error is not None
        assert seen.error.code == "WF201"
        with request_context.use(request_context.RequestContext("c-acme", tenant_id="acme")):
            inherited = sb.engine.execute_step("ticket", "b1", "admin", step="resolve")
        assert inherited.error is not None
        assert inherited.error.code == "WF201"
        assert [r["id"] for r in sb.rows("tickets")] == ["a1"]
        history = sb.rows("workflow_history")
        assert {h["tenant_id"] for h in history} == {"acme"}
        assert {h["entity_id"] for h in history} == {"a1"}
        # the same sandbox, as globex: its row is copied now, and only for globex
        own = sb.engine.execute_step("ticket", "b1", "admin", step="resolve", tenant_id="globex")
        assert own.ok
        again = sb.engine.execute_step("ticket", "b1", "admin", step="resolve", tenant_id="acme")
        assert again.error is not None
        assert again.error.code == "WF201"  # the tenant column filters the copy too


def test_a_dry_run_of_a_prototype_step_as_another_tenant_runs_no_use_case(tenants: str) -> None:
    seen: list[str] = []

    def spy(ctx: object) -> object:
        seen.append(repr(ctx))
        raise AssertionError("a use case ran on another tenant's entity")

    dr = dry_run(
        tenants,
        TENANTED_WFS,
        "ticket",
        "b1",
        "admin",
        step="resolve",
        use_cases={"check": spy},
        tenant_id="acme",
    )
    _nothing_of_globex(dr)
    assert seen == []


def test_the_dryrun_magic_as_another_tenant_shows_nothing_of_its_entity(
    ip: Shell,  # noqa: F811
    sqlite_url: str,
    tmp_path: Path,
) -> None:
    fill_tenants(sqlite_url)
    folder = tmp_path / "workflows"
    folder.mkdir()
    (folder / "ticket.json").write_text(TENANTED.model_dump_json(by_alias=True, exclude_none=True))
    assert ip.run(f"%wfnb load {folder}").success
    assert ip.run(f"%wfnb connect {sqlite_url}").success
    ran = ip.run("dr = %wfnb dryrun ticket b1 admin --step resolve --tenant acme")
    assert SECRET not in ran.output
    assert not ran.success  # one coded line, as for any entity the tenant cannot see
    assert "WF201" in ran.output
    assert "Traceback" not in ran.output
    assert "dr" not in ip.ns
    own = ip.run("mine = %wfnb dryrun ticket b1 admin --step resolve --tenant globex")
    assert own.success, own.output
    assert ip.ns["mine"].before["title"] == SECRET

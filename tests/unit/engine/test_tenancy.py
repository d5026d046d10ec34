"""Tenant-scoped workflows: another tenant's entity is WF201 on both dialects."""

from __future__ import annotations

from tests.unit.engine.conftest import Build, rows
from wfnb import testing
from wfnb.engine import Outcome

TENANTED = {"table": "tickets", "tenant_column": "tenant_id"}


def test_another_tenants_entity_is_not_found(build: Build) -> None:
    engine, wf = build(entity=TENANTED)
    testing.insert_entity(engine.db, wf, "a1", tenant_id="acme")
    result = engine.execute_step("ticket", "a1", "admin", tenant_id="globex")
    assert result.error is not None
    assert result.error.code == "WF201"
    observed = engine.observe("ticket", "a1", "closed", source="email", tenant_id="globex")
    assert observed.error is not None
    assert observed.error.code == "WF201"
    explained = engine.explain("ticket", "a1", "admin", tenant_id="globex")
    assert explained.status is None
    assert explained.error is not None
    batch = engine.execute_batch("ticket", ["a1"], "admin", tenant_id="globex")
    assert batch[0].error is not None
    assert batch[0].error.code == "WF201"
    assert rows(engine, "SELECT * FROM workflow_history") == []


def test_the_own_tenant_works_and_history_carries_the_tenant(build: Build) -> None:
    engine, wf = build(entity=TENANTED)
    testing.insert_entity(engine.db, wf, "a1", tenant_id="acme")
    testing.insert_entity(engine.db, wf, "b1", tenant_id="globex")
    assert (
        engine.execute_step("ticket", "a1", "admin", tenant_id="acme").outcome
        is Outcome.TRANSITIONED
    )
    system = engine.execute_step("ticket", "b1", "admin")  # no tenant: a system call
    assert system.outcome is Outcome.TRANSITIONED
    found = rows(engine, "SELECT entity_id, tenant_id FROM workflow_history ORDER BY id")
    assert [tuple(r) for r in found] == [("a1", "acme"), ("b1", "globex")]


def test_the_request_context_tenant_applies_when_no_argument_is_given(build: Build) -> None:
    from wfnb.engine.context import RequestContext, use

    engine, wf = build(entity=TENANTED)
    testing.insert_entity(engine.db, wf, "a1", tenant_id="acme")
    with use(RequestContext("c-1", tenant_id="globex")):
        assert engine.execute_step("ticket", "a1", "admin").error.code == "WF201"  # type: ignore[union-attr]
    with use(RequestContext("c-2", tenant_id="acme")):
        assert engine.execute_step("ticket", "a1", "admin").ok

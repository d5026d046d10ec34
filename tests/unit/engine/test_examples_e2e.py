"""The shipped example workflows on the engine (SQLite and PostgreSQL): load, explain, observe."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from wfnb.engine import Engine, Outcome
from wfnb.examples.energy import schema


@pytest.fixture
def engine(energy_engine: Engine) -> Engine:
    return energy_engine


def test_every_example_entity_can_be_explained_at_its_initial_status(engine: Engine) -> None:
    with engine.db.begin() as conn:
        ids = {
            "user_registration": schema.insert_user(conn),
            "sharing_group": schema.insert_sharing_group(conn),
            "invoice": schema.insert_invoice(conn),
            "billing_period": schema.insert_billing_period(conn),
        }
    assert set(ids) == set(engine.workflows)
    for name, entity_id in ids.items():
        wf = engine.workflow(name)
        for requester in wf.requester_types:
            x = engine.explain(name, entity_id, requester)
            assert x.status == wf.initial_status
            assert [o.key for o in x.options] == [s.key for s in wf.steps_at(wf.initial_status)]


def test_the_hub_confirmation_is_an_observed_transition_scoped_to_the_tenant(
    engine: Engine,
) -> None:
    with engine.db.begin() as conn:
        uid = schema.insert_user(conn, status="pending_hub_registration")
    other = engine.observe(
        "user_registration", uid, "active", source="datahub_poller", tenant_id="community_b"
    )
    assert other.error is not None
    assert other.error.code == "WF201"
    wrong = engine.observe("user_registration", uid, "active", source="someone")
    assert wrong.error is not None
    assert wrong.error.code == "WF207"
    seen = engine.observe(
        "user_registration", uid, "active", source="datahub_poller", tenant_id="community_a"
    )
    assert (seen.outcome, seen.to_status) == (Outcome.OBSERVED, "active")
    with engine.db.connect() as conn:
        kind, tenant, config_hash = conn.execute(
            sa.text("SELECT kind, tenant_id, config_hash FROM workflow_history")
        ).one()
    assert (kind, tenant) == ("observed", "community_a")
    assert config_hash == engine.workflow("user_registration").config_hash

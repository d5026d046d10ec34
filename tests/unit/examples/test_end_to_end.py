"""The example domain run by the engine: the JSON, the use cases and the schema fit together."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from wfnb.engine.core import Engine
from wfnb.engine.results import StepResult
from wfnb.examples.energy import schema

TENANT = "community_a"
SHA = "b" * 64
DOCS = [
    {"kind": "id_card", "filename": "op.pdf", "sha256": SHA},
    {"kind": "supply_contract", "filename": "smlouva.pdf", "sha256": SHA},
]


@pytest.fixture
def engine(energy_engine: Engine) -> Engine:
    return energy_engine


def _status(eng: Engine, table: sa.Table, entity_id: str) -> str:
    with eng.db.connect() as conn:
        return str(conn.execute(sa.select(table.c.status).where(table.c.id == entity_id)).scalar())


def test_a_member_registers_and_the_hub_confirms(engine: Engine) -> None:
    with engine.db.begin() as conn:
        uid = schema.insert_user(conn, email_token="tok", tenant_id=TENANT)

    def step(key: str, requester: str, **data: object) -> StepResult:
        return engine.execute_step(
            "user_registration", uid, requester, step=key, data=data, tenant_id=TENANT
        )

    assert step("verify_email", "user", token="tok").to_status == "pending_documents"
    rejected = step("upload_documents", "user", documents=DOCS[:1])
    assert (rejected.outcome, rejected.to_status) == ("rejected", "pending_documents")
    uploaded = step("upload_documents", "user", documents=DOCS)
    assert [r.to_status for r in uploaded.chain] == ["pending_admin_approval"]  # auto-advance
    down = step("approve", "admin", hub_error="unavailable")
    assert (down.outcome, _status(engine, schema.users, uid)) == (
        "failed",
        "pending_admin_approval",
    )
    assert step("approve", "admin").to_status == "pending_hub_registration"
    seen = engine.observe(
        "user_registration", uid, "active", source="datahub_poller", tenant_id=TENANT
    )
    assert (seen.outcome, _status(engine, schema.users, uid)) == ("observed", "active")


def test_a_hub_refusal_is_a_logged_permanent_failure(engine: Engine) -> None:
    with engine.db.begin() as conn:
        uid = schema.insert_user(conn, status="pending_admin_approval", tenant_id=TENANT)
    result = engine.execute_step(
        "user_registration",
        uid,
        "admin",
        step="approve",
        data={"hub_error": "refused"},
        tenant_id=TENANT,
    )
    assert result.outcome == "failed"
    assert _status(engine, schema.users, uid) == "hub_registration_failed"
    with engine.db.connect() as conn:
        logged = conn.execute(
            sa.text("SELECT error_code FROM workflow_permanent_failure_log WHERE entity_id = :i"),
            {"i": uid},
        ).scalar_one()
    assert logged == "hub_refused"


def test_invoices_are_approved_in_one_batch_and_sent(engine: Engine) -> None:
    with engine.db.begin() as conn:
        ids = [schema.insert_invoice(conn, tenant_id=TENANT) for _ in range(4)]
    results = engine.execute_batch("invoice", ids, "system", step="approve", tenant_id=TENANT)
    assert [r.to_status for r in results] == ["approved"] * 4
    sent = engine.execute_step("invoice", ids[0], "system", step="send", tenant_id=TENANT)
    assert (sent.to_status, sent.metadata["due_date"]) == ("sent", "2026-02-15")

"""The timeline, step runner and failure browser, driven through their traitlets."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import WORKFLOWS
from wfnb.engine import Engine
from wfnb.examples.energy import schema
from wfnb.jupyter.widgets import EntityTimeline, FailureBrowser, StepRunner
from wfnb.spec import Workflows
from wfnb.validation import load_workflows


@pytest.fixture
def world(sqlite_url: str) -> tuple[sa.Engine, Workflows, dict[str, str]]:
    """Invoices: one paid by the bank, one undeliverable (a permanent failure), one moved
    by a manual UPDATE behind the engine's back."""
    wfs = load_workflows([WORKFLOWS])
    engine = Engine(wfs, sqlite_url)
    engine.install()
    schema.create_schema(engine.db)
    with engine.db.begin() as conn:
        ids = {k: schema.insert_invoice(conn) for k in ("paid", "lost", "manual")}
    for key in ids.values():
        assert engine.execute_step("invoice", key, "admin", step="approve").ok
    assert engine.execute_step("invoice", ids["paid"], "admin", step="send").ok
    assert engine.observe("invoice", ids["paid"], "paid", source="bank_feed").ok
    lost = engine.execute_step(
        "invoice", ids["lost"], "admin", step="send", data={"delivery_error": "invalid_address"}
    )
    assert lost.to_status == "undeliverable"
    with engine.db.begin() as conn:
        conn.execute(
            sa.text("UPDATE invoices SET status = 'paid' WHERE id = :i"), {"i": ids["manual"]}
        )
    db = engine.db
    return db, wfs, ids


def test_the_timeline_shows_the_history_and_flags_the_manual_update(world) -> None:  # type: ignore[no-untyped-def]
    db, wfs, ids = world
    tl = EntityTimeline(db, wfs)
    tl.workflow.value = "invoice"
    tl.entity.value = ids["paid"]
    html = tl.output.value
    assert "draft → approved" in html
    assert "sent → paid" in html
    assert "observed" in html
    assert "⚠" not in html
    tl.entity.value = ids["manual"]
    assert "status_mismatch" in tl.output.value


def test_the_step_runner_shows_a_diff_and_never_writes_the_source(world) -> None:  # type: ignore[no-untyped-def]
    db, wfs, ids = world
    path = Path(db.url.database or "")
    runner = StepRunner(db, wfs)
    runner.workflow.value = "invoice"
    runner.entity.value = ids["manual"]  # at 'paid' now: nothing applies
    runner.requester.value = "admin"
    runner.run.click()
    assert "WF202" in runner.output.value
    runner.entity.value = ids["lost"]
    runner.step.value = None
    runner.payload.value = "{not json"
    runner.run.click()
    assert "WF208" in runner.output.value
    with db.begin() as conn:
        draft = schema.insert_invoice(conn)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    runner.entity.value = draft
    runner.payload.value = "{}"
    runner.step.value = "approve"
    runner.run.click()
    assert runner.last is not None
    assert runner.last.result.to_status == "approved"
    assert "approved" in runner.output.value
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_the_failure_browser_filters_and_drills_into_an_entity(world) -> None:  # type: ignore[no-untyped-def]
    db, wfs, ids = world
    fb = FailureBrowser(db, wfs)
    assert ids["lost"] in fb.table.value
    assert "1 failure(s)" in fb.table.value
    fb.code.value = "no_such_code"
    fb.apply.click()
    assert "0 failure(s)" in fb.table.value
    fb.code.value = ""
    fb.since.value = "not a date"
    fb.apply.click()
    assert "not an ISO date" in fb.table.value
    fb.since.value = ""
    fb.apply.click()
    fb.pick.value = ("invoice", ids["lost"])
    assert "sent" in fb.timeline.output.value or "undeliverable" in fb.timeline.output.value

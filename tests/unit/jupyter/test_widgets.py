"""The timeline, step runner and failure browser, driven through their traitlets."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import WORKFLOWS
from tests.unit.frames.test_display import assert_readable
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
        assert engine.execute_step("invoice", key, "admin", step="approve", user_id="adm-7").ok
    assert engine.execute_step("invoice", ids["paid"], "admin", step="send").ok
    assert engine.observe("invoice", ids["paid"], "paid", source="bank_feed").ok
    lost = engine.execute_step(
        "invoice",
        ids["lost"],
        "admin",
        step="send",
        data={"delivery_error": "invalid_address"},
        user_id="adm-9",
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


def test_the_timeline_reads_as_words_and_shows_who(world) -> None:  # type: ignore[no-untyped-def]
    db, wfs, ids = world
    tl = EntityTimeline(db, wfs)
    tl.workflow.value = "invoice"
    tl.entity.value = ids["lost"]
    html = tl.output.value
    assert "adm-7" in html
    assert "adm-9" in html
    assert "<th" in html
    assert "user" in html
    assert_readable(html)
    config = wfs["invoice"].config_hash
    assert f"<span title='{config}'><code>{config[:12]}</code></span>" in html


def test_the_failure_browser_pages_filters_and_drills_into_an_entity(world) -> None:  # type: ignore[no-untyped-def]
    db, wfs, ids = world
    fb = FailureBrowser(db, wfs)
    assert "1 failure" in fb.summary.value
    (row,) = fb.rows()
    assert ids["lost"] in row
    assert "adm-9" in row
    assert "error_message" in list(fb.table.df.columns)
    assert fb.table._dt_args["pageLength"] == 10  # pages, never one long HTML table
    fb.code.value = "no_such_code"
    fb.apply.click()
    assert "0 failures" in fb.summary.value
    fb.code.value = ""
    fb.user.value = "adm-7"
    fb.apply.click()
    assert "0 failures" in fb.summary.value
    fb.user.value = "adm-9"
    fb.apply.click()
    assert "1 failure" in fb.summary.value
    fb.table.selected_rows = [0]
    assert "undeliverable" in fb.timeline.output.value


def test_a_bad_date_in_the_failure_browser_is_one_coded_line(world) -> None:  # type: ignore[no-untyped-def]
    db, wfs, _ = world
    fb = FailureBrowser(db, wfs)
    fb.since.value = "not a date"
    fb.apply.click()
    assert "WF400: not an ISO date" in fb.summary.value
    assert "ArgumentTypeError" not in fb.summary.value


def test_an_unexpected_error_in_a_widget_is_one_coded_line(world, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    db, wfs, ids = world
    tl = EntityTimeline(db, wfs)

    def broken(*_a: object, **_k: object) -> None:
        raise RuntimeError("the disk is on fire\nsecond line")

    monkeypatch.setattr(tl, "deviations", broken)
    tl.workflow.value = "invoice"
    tl.entity.value = ids["paid"]
    assert "WF000: RuntimeError: the disk is on fire second line" in tl.output.value
    assert "Traceback" not in tl.output.value


def test_the_step_runner_preselects_what_applies_at_the_entitys_status(world) -> None:  # type: ignore[no-untyped-def]
    db, wfs, _ = world
    with db.begin() as conn:
        draft = schema.insert_invoice(conn)
    runner = StepRunner(db, wfs)
    runner.workflow.value = "invoice"
    assert runner.requester.value is not None  # never a blank dropdown
    assert runner.step.value is not None
    runner.entity.value = draft
    assert runner.status == "draft"
    wf = wfs["invoice"]
    assert list(runner.requester.options) == [
        rt for rt in wf.requester_types if wf.steps_for("draft", rt)
    ]
    assert list(runner.step.options) == [
        s.key for s in wf.steps_for("draft", runner.requester.value)
    ]
    assert runner.step.value == runner.step.options[0]
    runner.run.click()  # nothing touched: the preselected step runs, not WF203
    assert runner.last is not None, runner.output.value
    assert "WF203" not in runner.output.value
    assert runner.last.result.from_status == "draft"


def test_the_step_runner_says_an_unknown_entity_in_one_coded_line(world) -> None:  # type: ignore[no-untyped-def]
    db, wfs, _ = world
    runner = StepRunner(db, wfs)
    runner.workflow.value = "invoice"
    runner.entity.value = "inv_nobody"
    assert "WF201" in runner.where.value
    runner.run.click()
    assert runner.output.value.count("WF201") == 1
    assert "None" not in runner.output.value
    assert "<table" not in runner.output.value


def test_the_failure_browser_wraps_messages_and_names_use_cases_by_function(world) -> None:  # type: ignore[no-untyped-def]
    from wfnb.frames.display import message_html

    db, wfs, _ = world
    fb = FailureBrowser(db, wfs)
    (message,) = fb.frame["error_message"].tolist()
    assert fb.table.df["error_message"].tolist() == [message_html(message)]
    data = fb.table._dt_args["data_json"]
    assert "<span title=" in data  # the browser gets the markup itself, not its escape
    assert "&lt;span" not in data

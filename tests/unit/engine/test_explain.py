"""``Engine.explain``: what would run and why not, without writing anything."""

from __future__ import annotations

from tests.unit.engine.conftest import Build, rows, status_of


def test_explains_every_step_at_the_status(build: Build) -> None:
    engine, _ = build(entities=1, status="triaged")
    x = engine.explain("ticket", "e0", "admin")
    assert x.status == "triaged"
    assert [(o.key, o.applies) for o in x.options] == [("resolve", True), ("refuse", True)]
    assert x.selected is None
    assert x.error is not None
    assert x.error.code == "WF203"
    resolve = x.options[0]
    assert (resolve.validation, resolve.action, resolve.target, resolve.claim_status) == (
        "check", "act", "resolved", "resolving",
    )  # fmt: skip
    text = str(x)
    assert "resolve: applies" in text
    assert "WF203" in text
    assert "observed: 'closed'" in text
    assert "<table" in x._repr_html_()


def test_explains_why_a_step_does_not_apply(build: Build) -> None:
    engine, _ = build(entities=1, status="triaged")
    x = engine.explain("ticket", "e0", "user", step="close")
    reasons = {o.key: o.reason for o in x.options}
    assert "not 'user'" in (reasons["resolve"] or "")
    assert "applies at 'resolved'" in (reasons["close"] or "")
    assert x.error is not None
    assert x.error.code == "WF202"


def test_shows_the_override_the_requester_gets(build: Build) -> None:
    engine, _ = build(entities=1)
    assert engine.explain("ticket", "e0", "admin").options[0].target == "triaged"
    x = engine.explain("ticket", "e0", "user")
    assert (x.selected, x.options[0].target) == ("submit", "submitted")


def test_writes_nothing_and_reports_a_missing_entity(build: Build) -> None:
    engine, _ = build(entities=1)
    engine.explain("ticket", "e0", "user")
    assert status_of(engine, "e0") == ("draft", 0)
    assert rows(engine, "SELECT * FROM workflow_history") == []
    missing = engine.explain("ticket", "nope", "user")
    assert missing.status is None
    assert "WF201" in str(missing)

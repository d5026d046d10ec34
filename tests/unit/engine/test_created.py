"""``Engine.created``: one creation row per entity; a repeated call is a no-op that says so."""

from __future__ import annotations

from tests.engines import Build
from tests.unit.engine.conftest import history
from wfnb.engine import Outcome


def test_created_twice_writes_one_row_and_the_second_call_says_already_recorded(
    build: Build,
) -> None:
    engine, _ = build(entities=1)
    first = engine.created("ticket", "e0")
    again = engine.created("ticket", "e0")
    assert (first.outcome, first.to_status, first.error) == (Outcome.TRANSITIONED, "draft", None)
    assert (again.outcome, again.from_status, again.to_status, again.error, again.ok) == (
        Outcome.REJECTED,
        "draft",
        None,
        None,
        True,
    )
    assert "already recorded" in str(again.metadata)
    assert again.metadata == {"reason": "already recorded", "already_recorded": True}
    assert history(engine, "e0") == [("initiated", None, "draft")]


def test_a_recorded_creation_stays_recorded_after_the_entity_moved_on(build: Build) -> None:
    engine, _ = build(entities=1)
    assert engine.created("ticket", "e0").outcome is Outcome.TRANSITIONED
    assert engine.execute_step("ticket", "e0", "admin", step="submit").ok
    again = engine.created("ticket", "e0")
    assert again.metadata.get("already_recorded") is True
    assert history(engine, "e0") == [
        ("initiated", None, "draft"),
        ("initiated", "draft", "triaged"),
    ]


def test_an_unrecorded_entity_past_its_initial_status_is_wf202_and_a_missing_one_wf201(
    build: Build,
) -> None:
    engine, _ = build(entities=1, status="triaged")
    moved = engine.created("ticket", "e0")
    missing = engine.created("ticket", "nope")
    assert [r.error.code if r.error else None for r in (moved, missing)] == ["WF202", "WF201"]
    assert history(engine, "e0") == []

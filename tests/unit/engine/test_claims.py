"""Claims and janitors: a stale claim goes to its owning module's janitor, whose result decides."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.unit.engine.conftest import Build, FakeClock, history, rows, status_of
from wfnb import testing
from wfnb.engine import Engine, Outcome
from wfnb.engine.usecases import Result, StepContext


@pytest.fixture
def stranded(build: Build) -> Engine:
    engine, wf = build(entities=1, status="triaged")

    def die(ctx: StepContext) -> Result:
        raise SystemExit  # not an Exception: escapes like a crash would, after the claim

    engine.use_cases.override(wf, "act", die)
    with pytest.raises(SystemExit):
        engine.execute_step("ticket", "e0", "system", correlation_id="c-claim", user_id="u9")
    engine.use_cases.override(wf, "act", None)
    return engine


def test_a_crash_inside_the_action_leaves_the_claim(stranded: Engine) -> None:
    engine = stranded
    assert status_of(engine, "e0") == ("resolving", 1)
    assert history(engine, "e0") == [("claimed", "triaged", "resolving")]
    again = engine.execute_step("ticket", "e0", "system")
    assert again.error is not None
    assert again.error.code == "WF202"


def test_fresh_claims_are_left_alone(stranded: Engine, clock: FakeClock) -> None:
    engine = stranded
    seen: list[str] = []
    engine.register_janitor("support", lambda ctx: seen.append(ctx.entity_id))
    clock.advance(timedelta(minutes=9))
    assert engine.recover_claims() == []
    assert seen == []


def test_janitor_ok_moves_on_to_the_successful_state(stranded: Engine, clock: FakeClock) -> None:
    engine = stranded
    contexts: list[StepContext] = []

    def janitor(ctx: StepContext) -> Result:
        contexts.append(ctx)
        return Result.ok(checked="hub says done")

    engine.register_janitor("support", janitor)
    clock.advance(timedelta(minutes=11))
    (result,) = engine.recover_claims()
    assert (result.outcome, result.from_status, result.to_status) == (
        Outcome.TRANSITIONED, "resolving", "resolved",
    )  # fmt: skip
    assert contexts[0].step.key == "resolve"
    assert contexts[0].requester.correlation_id == "c-claim"
    assert contexts[0].requester.user_id == "u9"
    assert history(engine, "e0")[-1] == ("janitor", "resolving", "resolved")
    (meta,) = rows(
        engine, "SELECT requester_type, correlation_id FROM workflow_history WHERE kind = 'janitor'"
    )
    assert tuple(meta) == ("system", "c-claim")
    assert engine.recover_claims() == []  # handled once


@pytest.mark.parametrize(
    ("verdict", "outcome"),
    [(Result.reject("not done"), Outcome.REJECTED), (Result.fail("X", "hub down"), Outcome.FAILED)],
)
def test_janitor_no_releases_back_to_the_step_status(
    stranded: Engine,
    clock: FakeClock,
    verdict: Result,
    outcome: Outcome,
) -> None:
    engine = stranded
    engine.register_janitor("support", lambda ctx: verdict)
    clock.advance(timedelta(hours=1))
    (result,) = engine.recover_claims()
    assert (result.outcome, result.to_status) == (outcome, "triaged")
    assert history(engine, "e0")[-1] == ("janitor", "resolving", "triaged")
    assert engine.execute_step("ticket", "e0", "system").to_status == "resolved"
    assert testing.CALLS[("act", "e0")] == 1


def test_a_raising_janitor_leaves_the_claim(stranded: Engine, clock: FakeClock) -> None:
    engine = stranded

    def broken(ctx: StepContext) -> Result:
        raise RuntimeError("janitor bug")

    engine.register_janitor("support", broken)
    clock.advance(timedelta(hours=1))
    (result,) = engine.recover_claims()
    assert result.error is not None
    assert result.error.code == "WF206"
    assert status_of(engine, "e0")[0] == "resolving"


def test_no_janitor_registered_means_nothing_happens(stranded: Engine, clock: FakeClock) -> None:
    engine = stranded
    engine.register_janitor("someone_else", lambda ctx: Result.ok())
    clock.advance(timedelta(hours=1))
    assert engine.recover_claims() == []
    assert status_of(engine, "e0")[0] == "resolving"


def test_the_action_runs_once_per_claim(build: Build) -> None:
    engine, _ = build(entities=1, status="triaged")
    assert engine.execute_step("ticket", "e0", "system").to_status == "resolved"
    assert testing.CALLS[("act", "e0")] == 1
    assert testing.CALLS[("check", "e0")] == 1


def test_a_rejecting_action_after_a_claim_takes_the_rejection_path(build: Build) -> None:
    steps = [dict(s) for s in testing.DEFAULT_WORKFLOW["steps"]]
    steps[3]["rejection"] = {"state": "refused"}
    engine, _ = build(entities=2, status="triaged", steps=steps)
    result = engine.execute_step("ticket", "e0", "system", data={"action": "reject"})
    assert (result.outcome, result.to_status) == (Outcome.REJECTED, "refused")
    assert history(engine, "e0")[-1] == ("rejected", "resolving", "refused")


def test_a_rejecting_action_without_a_path_releases_the_claim(build: Build) -> None:
    engine, _ = build(entities=1, status="triaged")
    result = engine.execute_step("ticket", "e0", "system", data={"action": "reject"})
    assert (result.outcome, result.to_status) == (Outcome.REJECTED, "triaged")
    assert history(engine, "e0")[-1] == ("released", "resolving", "triaged")

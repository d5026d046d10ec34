"""The step pipeline end to end on SQLite and PostgreSQL: every path, every runtime code."""

from __future__ import annotations

import json

import pytest

from tests.unit.engine.conftest import Build, history, rows, status_of
from wfnb import testing
from wfnb.engine import Outcome
from wfnb.engine.usecases import Result, StepContext
from wfnb.exceptions import (
    AmbiguousStepError,
    ConcurrentModificationError,
    EntityNotFoundError,
    InvalidPayloadError,
    NoStepAppliesError,
    UndeclaredObservationError,
    UnknownWorkflowError,
    UseCaseError,
    UseCaseFailedError,
)


def test_happy_path_moves_the_entity_and_writes_history(build: Build) -> None:
    engine, wf = build(entities=1)
    result = engine.execute_step("ticket", "e0", "admin", user_id="u1", correlation_id="c-1")
    assert result.outcome is Outcome.TRANSITIONED
    assert (result.from_status, result.to_status, result.error) == ("draft", "triaged", None)
    assert dict(result.metadata) == {"check": True, "act": True}
    assert status_of(engine, "e0") == ("triaged", 1)
    (row,) = rows(engine, "SELECT * FROM workflow_history")
    assert row.kind == "initiated"
    assert row.step_key == "submit"
    assert (row.requester_type, row.user_id, row.correlation_id) == ("admin", "u1", "c-1")
    assert row.config_hash == wf.config_hash
    assert row.entity_table == "tickets"
    metadata = row.metadata if isinstance(row.metadata, dict) else json.loads(row.metadata)
    assert metadata == {"check": True, "act": True}
    assert row.changed_at is not None
    assert row.duration_ms >= 0


def test_a_correlation_id_is_generated_when_none_is_given(build: Build) -> None:
    engine, _ = build(entities=2)
    first = engine.execute_step("ticket", "e0", "admin")
    second = engine.execute_step("ticket", "e1", "admin")
    assert first.correlation_id
    assert second.correlation_id
    assert first.correlation_id != second.correlation_id


def test_validation_rejects_and_the_rejection_path_runs(build: Build) -> None:
    engine, _ = build(entities=1)
    result = engine.execute_step("ticket", "e0", "user", data={"validation": "reject"})
    assert result.outcome is Outcome.REJECTED
    assert (result.to_status, result.metadata["reason"]) == ("draft", "check said no")
    assert testing.CALLS[("notify_rejected", "e0")] == 1
    assert testing.CALLS[("act", "e0")] == 0
    assert history(engine, "e0") == [("rejected", "draft", "draft")]
    assert status_of(engine, "e0") == ("draft", 1)


def test_a_rejection_without_a_path_changes_nothing(build: Build) -> None:
    engine, _ = build(entities=1, status="submitted")
    result = engine.execute_step("ticket", "e0", "system", data={"validation": "reject"})
    assert (result.outcome, result.to_status) == (Outcome.REJECTED, None)
    assert history(engine, "e0") == []
    assert status_of(engine, "e0") == ("submitted", 0)


def test_override_for_admin_changes_the_target_and_stops_the_chain(build: Build) -> None:
    engine, _ = build(entities=2)
    admin = engine.execute_step("ticket", "e0", "admin")
    user = engine.execute_step("ticket", "e1", "user")
    assert (admin.to_status, admin.chain) == ("triaged", ())
    assert user.to_status == "submitted"


def test_auto_advance_chains_where_exactly_one_step_applies(build: Build) -> None:
    engine, _ = build(entities=1)
    result = engine.execute_step("ticket", "e0", "user")
    assert [(r.step, r.to_status) for r in result.chain] == [("triage", "triaged")]
    assert result.final_status == "triaged"
    assert history(engine, "e0") == [
        ("initiated", "draft", "submitted"),
        ("initiated", "submitted", "triaged"),
    ]


def test_auto_advance_stops_where_several_steps_apply(build: Build) -> None:
    steps = list(testing.DEFAULT_WORKFLOW["steps"])
    steps.append({"key": "escalate", "status": "submitted", "requester_types": ["user"],
                  "successful_state": "triaged"})  # fmt: skip
    engine, _ = build(entities=1, steps=steps)
    result = engine.execute_step("ticket", "e0", "user")
    assert (result.to_status, result.chain) == ("submitted", ())


def say_no(ctx: StepContext) -> Result:
    """A validation that always rejects (named as ``tests.unit.engine.test_pipeline:say_no``)."""
    return Result.reject("not today")


def test_a_rejected_link_ends_the_chain_and_keeps_the_first_step(build: Build) -> None:
    steps = [dict(s) for s in testing.DEFAULT_WORKFLOW["steps"]]
    steps[1]["validation"] = "tests.unit.engine.test_pipeline:say_no"
    engine, _ = build(entities=1, steps=steps)
    result = engine.execute_step("ticket", "e0", "user")
    assert result.to_status == "submitted"
    assert [(r.outcome, r.step) for r in result.chain] == [(Outcome.REJECTED, "triage")]
    assert status_of(engine, "e0") == ("submitted", 1)


def test_claim_success_commits_the_claim_then_moves_out(build: Build) -> None:
    engine, _ = build(entities=1, status="triaged")
    result = engine.execute_step("ticket", "e0", "system")
    assert (result.outcome, result.to_status) == (Outcome.TRANSITIONED, "resolved")
    assert history(engine, "e0") == [
        ("claimed", "triaged", "resolving"),
        ("initiated", "resolving", "resolved"),
    ]
    assert status_of(engine, "e0") == ("resolved", 2)


@pytest.mark.parametrize(("instruction", "code"), [("fail", "WF205"), ("raise", "WF206")])
def test_claim_failure_releases_the_claim(build: Build, instruction: str, code: str) -> None:
    engine, _ = build(entities=1, status="triaged")
    result = engine.execute_step("ticket", "e0", "system", data={"action": instruction})
    assert (result.outcome, result.to_status) == (Outcome.FAILED, "triaged")
    assert result.error is not None
    assert result.error.code == code
    assert history(engine, "e0") == [
        ("claimed", "triaged", "resolving"),
        ("released", "resolving", "triaged"),
    ]
    assert status_of(engine, "e0") == ("triaged", 2)
    again = engine.execute_step("ticket", "e0", "system")  # calling again is the retry
    assert again.to_status == "resolved"


def test_observed_transition_is_recorded_with_its_source(build: Build) -> None:
    engine, _ = build(entities=1, status="triaged")
    result = engine.observe("ticket", "e0", "closed", source="email", data={"ref": "m-1"})
    assert (result.outcome, result.to_status) == (Outcome.OBSERVED, "closed")
    (row,) = rows(engine, "SELECT kind, source, step_key FROM workflow_history")
    assert tuple(row) == ("observed", "email", None)
    assert testing.CALLS == {}


def test_permanent_failure_moves_to_the_failure_status_and_logs(build: Build) -> None:
    engine, _ = build(entities=1, status="submitted")
    result = engine.execute_step("ticket", "e0", "user", data={"validation": "fail_permanent"})
    assert (result.outcome, result.to_status) == (Outcome.FAILED, "failed")
    assert isinstance(result.error, UseCaseFailedError)
    assert result.error.fields["failure_code"] == "TEST_FAIL"
    assert result.error.fields["permanent"]
    (log,) = rows(engine, "SELECT status, step_key, error_code FROM workflow_permanent_failure_log")
    assert tuple(log) == ("failed", "triage", "TEST_FAIL")
    assert history(engine, "e0") == [("initiated", "submitted", "failed")]


def test_permanent_failure_without_failure_status_is_a_plain_failure(build: Build) -> None:
    engine, _ = build(entities=1, status="submitted", failure_statuses=[])
    result = engine.execute_step("ticket", "e0", "user", data={"validation": "fail_permanent"})
    assert (result.outcome, result.to_status) == (Outcome.FAILED, None)
    assert rows(engine, "SELECT * FROM workflow_permanent_failure_log") == []
    assert status_of(engine, "e0") == ("submitted", 0)


def test_entering_a_failure_status_by_a_step_writes_the_failure_log(build: Build) -> None:
    engine, _ = build(entities=1, status="submitted")
    assert engine.execute_step("ticket", "e0", "admin").to_status == "failed"
    (log,) = rows(engine, "SELECT status, step_key, error_code FROM workflow_permanent_failure_log")
    assert tuple(log) == ("failed", "abandon", "abandon")


def test_wf200_unknown_workflow_raises(build: Build) -> None:
    engine, _ = build()
    with pytest.raises(UnknownWorkflowError) as info:
        engine.execute_step("nope", "e0", "user")
    assert info.value.code == "WF200"


def test_wf201_missing_entity(build: Build) -> None:
    engine, _ = build()
    result = engine.execute_step("ticket", "ghost", "user")
    assert isinstance(result.error, EntityNotFoundError)
    assert result.error.code == "WF201"


@pytest.mark.parametrize(
    ("status", "requester", "step"),
    [("triaged", "user", None), ("draft", "user", "close"), ("draft", "system", "submit"),
     ("draft", "user", "no_such_step")],
)  # fmt: skip
def test_wf202_no_step_applies(build: Build, status: str, requester: str, step: str | None) -> None:
    engine, _ = build(entities=1, status=status)
    result = engine.execute_step("ticket", "e0", requester, step=step)
    assert isinstance(result.error, NoStepAppliesError)
    assert result.error.code == "WF202"
    assert history(engine, "e0") == []


def test_wf203_several_steps_apply(build: Build) -> None:
    engine, _ = build(entities=1, status="triaged")
    result = engine.execute_step("ticket", "e0", "admin")
    assert isinstance(result.error, AmbiguousStepError)
    assert result.error.code == "WF203"
    assert result.error.fields["candidates"] == ["resolve", "refuse"]
    named = engine.execute_step("ticket", "e0", "admin", step="refuse")
    assert named.to_status == "refused"


def test_wf204_a_concurrent_change_keeps_nothing(build: Build) -> None:
    engine, wf = build(entities=1)

    def bump_then_act(ctx: StepContext) -> Result:
        # Someone else's write lands between our read and our CAS (real races: tests/integration).
        ctx.conn.exec_driver_sql("UPDATE tickets SET version = version + 1")
        ctx.conn.exec_driver_sql("UPDATE tickets SET title = 'from the action'")
        return Result.ok()

    engine.use_cases.override(wf, "act", bump_then_act)
    result = engine.execute_step("ticket", "e0", "admin")
    assert isinstance(result.error, ConcurrentModificationError)
    assert result.error.code == "WF204"
    assert history(engine, "e0") == []
    assert status_of(engine, "e0") == ("draft", 0)
    assert rows(engine, "SELECT title FROM tickets")[0][0] is None  # nothing kept


def test_wf205_a_use_case_failure_keeps_nothing(build: Build) -> None:
    engine, _ = build(entities=1)
    result = engine.execute_step("ticket", "e0", "admin", data={"action": "fail"})
    assert isinstance(result.error, UseCaseFailedError)
    assert result.error.code == "WF205"
    assert result.error.fields["failure_code"] == "TEST_FAIL"
    assert status_of(engine, "e0") == ("draft", 0)
    assert history(engine, "e0") == []


def test_wf206_a_raising_use_case_is_chained(build: Build) -> None:
    engine, _ = build(entities=1)
    result = engine.execute_step("ticket", "e0", "admin", data={"validation": "raise"})
    assert isinstance(result.error, UseCaseError)
    assert result.error.code == "WF206"
    assert isinstance(result.error.__cause__, RuntimeError)
    assert status_of(engine, "e0") == ("draft", 0)
    with pytest.raises(UseCaseError):
        result.raise_for_error()


def test_wf206_use_case_writes_are_rolled_back(build: Build) -> None:
    engine, wf = build(entities=1)

    def writes_then_raises(ctx: StepContext) -> None:
        ctx.conn.exec_driver_sql("UPDATE tickets SET title = 'dirty'")
        raise ValueError("boom")

    engine.use_cases.override(wf, "act", writes_then_raises)
    error = engine.execute_step("ticket", "e0", "admin").error
    assert error is not None
    assert error.code == "WF206"
    assert rows(engine, "SELECT title FROM tickets")[0][0] is None


def test_wf207_undeclared_observation(build: Build) -> None:
    engine, _ = build(entities=1, status="draft")
    result = engine.observe("ticket", "e0", "closed", source="email")
    assert isinstance(result.error, UndeclaredObservationError)
    assert result.error.code == "WF207"
    wrong_source = engine.observe("ticket", "e0", "closed", source="phone")
    assert wrong_source.error is not None
    assert wrong_source.error.code == "WF207"


@pytest.mark.parametrize(
    "payload", [["not", "an", "object"], {"when": object()}, {"blob": "x" * 2048}]
)
def test_wf208_invalid_payload_runs_nothing(build: Build, payload: object) -> None:
    engine, _ = build(entities=1, engine_kw={"max_payload_bytes": 1024})
    result = engine.execute_step("ticket", "e0", "admin", data=payload)  # type: ignore[arg-type]
    assert isinstance(result.error, InvalidPayloadError)
    assert result.error.code == "WF208"
    assert testing.CALLS == {}
    assert status_of(engine, "e0") == ("draft", 0)

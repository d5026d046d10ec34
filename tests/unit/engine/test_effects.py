"""After-commit effects: domain events with their envelope, hooks, timers, one log line per step."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from tests.unit.engine.conftest import Build, FakeClock, rows, status_of
from wfnb.engine import Outcome, StepResult, TimerJob
from wfnb.engine.context import current
from wfnb.engine.usecases import Event
from wfnb.exceptions import ContextMissingError


class ListQueue:
    def __init__(self) -> None:
        self.jobs: list[TimerJob] = []

    def enqueue(self, job: TimerJob) -> None:
        self.jobs.append(job)


def test_events_are_published_after_commit_in_the_request_context(build: Build) -> None:
    engine, _ = build(entities=1)
    seen: list[tuple[Event, str | None]] = []

    def subscriber(event: Event) -> None:
        ctx = current()
        seen.append((event, ctx.correlation_id if ctx else None))

    engine.events.subscribe("ticket.touched", subscriber)
    engine.execute_step(
        "ticket", "e0", "admin", data={"emit": "ticket.touched"}, correlation_id="c7"
    )
    assert engine.events.flush(10)  # delivered off the step's thread (ADR 0102)
    assert [e.name for e, _ in seen] == ["ticket.touched", "ticket.touched"]  # check + act
    event, corr = seen[0]
    assert (event.workflow, event.entity_id, corr) == ("ticket", "e0", "c7")
    assert event.envelope["correlation_id"] == "c7"
    assert event.payload == {"entity": "e0", "by": "check"}


def test_events_of_a_rolled_back_step_are_dropped(build: Build) -> None:
    engine, _ = build(entities=1)
    seen: list[Event] = []
    engine.events.subscribe("*", seen.append)
    result = engine.execute_step("ticket", "e0", "admin", data={"emit": "x", "action": "fail"})
    assert result.outcome is Outcome.FAILED
    assert engine.events.flush(10)
    assert seen == []


def test_a_raising_subscriber_or_hook_never_fails_the_step(
    build: Build, caplog: pytest.LogCaptureFixture
) -> None:
    engine, _ = build(entities=1)

    def bad(_: object) -> None:
        raise RuntimeError("subscriber bug")

    engine.events.subscribe("*", bad)
    engine.add_hook(bad)
    got: list[StepResult] = []
    engine.add_hook(got.append)
    with caplog.at_level(logging.ERROR, logger="wfnb"):
        result = engine.execute_step("ticket", "e0", "admin", data={"emit": "x"})
        assert engine.events.flush(10)
    assert result.outcome is Outcome.TRANSITIONED
    assert got == [result]
    assert status_of(engine, "e0") == ("triaged", 1)
    assert sum("subscriber bug" in (r.exc_text or "") for r in caplog.records) >= 2


def test_publishing_without_an_envelope_is_wf209(build: Build) -> None:
    engine, _ = build()
    with pytest.raises(ContextMissingError) as info:
        engine.events.publish(Event("x", {}, "ticket", "e0"))
    assert info.value.code == "WF209"


def test_one_structured_log_line_per_step(build: Build, caplog: pytest.LogCaptureFixture) -> None:
    engine, _ = build(entities=1)
    with caplog.at_level(logging.INFO, logger="wfnb.engine"):
        engine.execute_step("ticket", "e0", "admin", correlation_id="c-log")
    (record,) = [r for r in caplog.records if hasattr(r, "run")]
    fields = record.__dict__  # the run record's fields are the record's attributes (ADR 0100)
    assert fields["outcome"] == "transitioned"
    assert fields["correlation_id"] == "c-log"
    assert (fields["from_status"], fields["to_status"], fields["step"]) == (
        "draft",
        "triaged",
        "submit",
    )


def test_timers_without_a_queue_warn_once_per_workflow(
    build: Build, caplog: pytest.LogCaptureFixture
) -> None:
    engine, _ = build(entities=2, status="triaged")
    with caplog.at_level(logging.WARNING, logger="wfnb.engine"):
        engine.execute_step("ticket", "e0", "system")
        engine.execute_step("ticket", "e1", "system")
    warnings = [r for r in caplog.records if "no job queue" in r.getMessage()]
    assert len(warnings) == 1


def test_timers_are_armed_on_the_queue_with_the_envelope(build: Build, clock: FakeClock) -> None:
    queue = ListQueue()
    engine, _ = build(entities=1, status="triaged", engine_kw={"queue": queue})
    engine.execute_step("ticket", "e0", "system", correlation_id="c-t", tenant_id=None)
    (job,) = queue.jobs
    assert (job.step, job.requester_type, job.status) == ("close", "admin", "resolved")
    assert (job.timer_key, job.entered_version) == ("auto_close", 2)
    assert job.due_at == clock.now() + timedelta(days=7)
    assert job.envelope["correlation_id"] == "c-t"
    result = engine.run_timer(job)
    assert (result.outcome, result.to_status) == (Outcome.TRANSITIONED, "closed")
    assert result.correlation_id == "c-t"
    assert rows(engine, "SELECT kind FROM workflow_history ORDER BY id")[-1][0] == "timer"
    again = engine.run_timer(job)  # the entity moved on: nothing happens
    assert again.error is not None
    assert again.error.code == "WF202"


def test_a_timer_armed_at_an_older_version_does_nothing(build: Build) -> None:
    engine, _ = build(entities=1, status="resolved")
    envelope = {"correlation_id": "c-old"}
    stale = TimerJob(
        "ticket", "e0", "auto_close", "close", "admin", "resolved", 5, datetime.now(UTC), envelope
    )
    result = engine.run_timer(stale)
    assert result.error is not None
    assert result.error.code == "WF202"
    assert status_of(engine, "e0") == ("resolved", 0)


def test_a_timer_job_without_envelope_is_wf209(build: Build, clock: FakeClock) -> None:
    engine, _ = build(entities=1)
    job = TimerJob("ticket", "e0", "auto_close", "close", "admin", "resolved", 0, clock.now(), {})
    with pytest.raises(ContextMissingError):
        engine.run_timer(job)

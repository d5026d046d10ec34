"""Every failure-log row the engine writes says why: a non-empty code and message, per path.

A ``Result.fail(permanent=True)`` brings its own code; a step, a batch, a rejection path,
an observation or a timer that simply leads into a failure status is recorded under its
own code (the use case's, else the step key) and a message naming what moved it there.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from tests.unit.engine.conftest import Build, rows
from wfnb import frames
from wfnb.engine import Engine
from wfnb.timers import InMemoryQueue, VirtualClock


def failures(engine: Engine) -> list[tuple[str, str, str, str]]:
    """(status, step_key, error_code, error_message) of every failure-log row."""
    found = rows(
        engine,
        "SELECT status, step_key, error_code, error_message "
        "FROM workflow_permanent_failure_log ORDER BY id",
    )
    return [tuple(r) for r in found]  # type: ignore[misc]


def assert_explained(engine: Engine) -> None:
    found = failures(engine)
    assert found
    for status, step, code, message in found:
        assert code, (status, step)
        assert message, (status, step)


def test_a_step_into_a_failure_status_records_its_step_as_code(build: Build) -> None:
    engine, _ = build(entities=1, status="submitted")
    assert engine.execute_step("ticket", "e0", "admin").to_status == "failed"
    assert_explained(engine)
    assert failures(engine) == [
        ("failed", "abandon", "abandon", "step 'abandon' moved it to failure status 'failed'")
    ]


def test_a_step_into_a_failure_status_records_the_reason_given(build: Build) -> None:
    engine, _ = build(entities=1, status="submitted")
    engine.execute_step("ticket", "e0", "admin", data={"reason": "x"})
    assert_explained(engine)


def test_a_batch_into_a_failure_status_records_code_and_message(build: Build) -> None:
    engine, _ = build(entities=3, status="submitted")
    results = engine.execute_batch("ticket", ["e0", "e1", "e2"], "admin", step="abandon")
    assert {r.to_status for r in results} == {"failed"}
    assert_explained(engine)
    assert {f[2] for f in failures(engine)} == {"abandon"}


def test_a_permanent_failure_keeps_the_use_cases_own_code(build: Build) -> None:
    engine, _ = build(entities=1, status="submitted")
    engine.execute_step("ticket", "e0", "user", data={"validation": "fail_permanent"})
    ((_, _, code, message),) = failures(engine)
    assert code == "TEST_FAIL"
    assert "check was told to fail" in message


def test_an_observation_into_a_failure_status_records_code_and_message(build: Build) -> None:
    engine, _ = build(entities=1, status="triaged", failure_statuses=["failed", "closed"])
    engine.observe("ticket", "e0", "closed", source="email", tenant_id="acme")
    assert failures(engine) == [
        ("closed", None, "observed", "observation by email moved it to failure status 'closed'")
    ]


def test_a_timer_into_a_failure_status_records_code_and_message(build: Build) -> None:
    clock = VirtualClock(datetime(2026, 1, 1, 12, tzinfo=UTC))
    queue = InMemoryQueue(clock)
    engine, _ = build(
        entities=1,
        status="triaged",
        failure_statuses=["failed", "closed"],
        engine_kw={"queue": queue, "clock": clock},
    )
    engine.execute_step("ticket", "e0", "admin", step="resolve", user_id="u1")
    queue.run_until(clock.now() + timedelta(days=8))
    with engine.db.connect() as conn:
        kind = conn.execute(sa.text("SELECT kind FROM workflow_history ORDER BY id DESC")).first()
    assert kind is not None
    assert kind[0] == "timer"
    assert failures(engine) == [
        ("closed", "close", "close", "timer step 'close' moved it to failure status 'closed'")
    ]


def test_a_timers_failure_is_not_the_arming_users(build: Build) -> None:
    clock = VirtualClock(datetime(2026, 1, 1, 12, tzinfo=UTC))
    queue = InMemoryQueue(clock)
    engine, _ = build(
        entities=1,
        status="triaged",
        failure_statuses=["failed", "closed"],
        engine_kw={"queue": queue, "clock": clock},
    )
    engine.execute_step("ticket", "e0", "admin", step="resolve", user_id="u1")
    queue.run_until(clock.now() + timedelta(days=8))
    assert len(frames.failures(engine.db)) == 1
    assert frames.failures(engine.db, user="u1").empty
    assert sorted(frames.history(engine.db, user="u1").kind) == ["claimed", "initiated"]

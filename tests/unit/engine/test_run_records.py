"""One structured run record per step, observation, timer job and janitor run (issue 16.3).

Each test configures JSON logging through the public ``wfnb.configure_logging`` into a
buffer and parses what came out: the record's fields are keys of a JSON line, not text.
Both dialects (``build`` runs on SQLite and PostgreSQL).
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

import wfnb
from tests.unit.engine.conftest import Build, FakeClock
from wfnb.engine import Outcome
from wfnb.engine.usecases import Result, StepContext
from wfnb.logs import RUN_FIELDS
from wfnb.timers import InMemoryQueue, VirtualClock

Lines = Callable[[], list[dict[str, Any]]]
TENANTED = {"table": "tickets", "tenant_column": "tenant_id"}


@pytest.fixture
def json_lines() -> Iterator[Lines]:
    """JSON logging of the ``wfnb`` logger into a buffer; ``lines()`` parses every line."""
    buffer = io.StringIO()
    target = logging.getLogger("wfnb")
    level = target.level
    handler = wfnb.configure_logging(format="json", level="INFO", stream=buffer)

    def lines() -> list[dict[str, Any]]:
        return [json.loads(line) for line in buffer.getvalue().splitlines()]

    yield lines
    target.removeHandler(handler)
    target.setLevel(level)


def runs(lines: Lines, run: str) -> list[dict[str, Any]]:
    return [line for line in lines() if line.get("run") == run]


def test_a_steps_record_has_every_field(build: Build, json_lines: Lines) -> None:
    engine, _ = build(entities=1, entity=TENANTED)
    result = engine.execute_step(
        "ticket", "e0", "admin", correlation_id="c-step", tenant_id="acme", user_id="u1"
    )
    assert result.outcome is Outcome.TRANSITIONED
    (record,) = runs(json_lines, "step")
    assert set(RUN_FIELDS) <= set(record)
    assert {k: record[k] for k in RUN_FIELDS if k != "duration_ms"} == {
        "run": "step",
        "kind": "initiated",
        "correlation_id": "c-step",
        "tenant_id": "acme",
        "user_id": "u1",
        "requester_type": "admin",
        "workflow": "ticket",
        "entity_id": "e0",
        "step": "submit",
        "from_status": "draft",
        "to_status": "triaged",
        "outcome": "transitioned",
        "error_code": None,
        "cron": None,
    }
    assert record["duration_ms"] == pytest.approx(result.duration_ms, abs=0.001)
    assert (record["level"], record["logger"]) == ("INFO", "wfnb.engine")
    assert record["message"].startswith("transitioned ticket:e0 submit draft->triaged")
    assert "time" in record


def test_every_auto_advance_link_has_its_own_record(build: Build, json_lines: Lines) -> None:
    engine, _ = build(entities=1)
    result = engine.execute_step("ticket", "e0", "user", correlation_id="c-chain")
    assert len(result.chain) == 1  # submit, then triage auto-advances
    steps = runs(json_lines, "step")
    assert [(r["step"], r["to_status"]) for r in steps] == [
        ("submit", "submitted"),
        ("triage", "triaged"),
    ]
    assert {r["correlation_id"] for r in steps} == {"c-chain"}


def test_a_failed_steps_record_carries_its_error_code(build: Build, json_lines: Lines) -> None:
    engine, _ = build(entities=1)
    result = engine.execute_step("ticket", "nobody", "admin", correlation_id="c-404")
    assert result.error is not None
    (record,) = runs(json_lines, "step")
    assert (record["outcome"], record["error_code"], record["correlation_id"]) == (
        "failed",
        "WF201",
        "c-404",
    )


def test_a_raising_use_case_is_a_warning_record(build: Build, json_lines: Lines) -> None:
    engine, wf = build(entities=1)

    def broken(ctx: StepContext) -> Result:
        raise RuntimeError("use case bug")

    engine.use_cases.override(wf, "act", broken)
    engine.execute_step("ticket", "e0", "admin")
    (record,) = runs(json_lines, "step")
    assert (record["level"], record["error_code"]) == ("WARNING", "WF206")


def test_an_observations_record(build: Build, json_lines: Lines) -> None:
    engine, _ = build(entities=1, status="triaged", entity=TENANTED)
    result = engine.observe(
        "ticket", "e0", "closed", source="email", tenant_id="acme", correlation_id="c-obs"
    )
    assert result.outcome is Outcome.OBSERVED
    (record,) = runs(json_lines, "observation")
    assert set(RUN_FIELDS) <= set(record)
    assert (record["kind"], record["from_status"], record["to_status"]) == (
        "observed",
        "triaged",
        "closed",
    )
    assert (record["correlation_id"], record["tenant_id"], record["outcome"]) == (
        "c-obs",
        "acme",
        "observed",
    )


def test_a_janitor_runs_record(build: Build, clock: FakeClock, json_lines: Lines) -> None:
    engine, wf = build(entities=1, status="triaged")

    def die(ctx: StepContext) -> Result:
        raise SystemExit  # escapes after the claim committed, as a crash would

    engine.use_cases.override(wf, "act", die)
    with pytest.raises(SystemExit):
        engine.execute_step("ticket", "e0", "system", correlation_id="c-claim", user_id="u9")
    engine.register_janitor("support", lambda ctx: Result.ok())
    clock.advance(timedelta(minutes=11))
    (result,) = engine.recover_claims()
    assert result.outcome is Outcome.TRANSITIONED
    (record,) = runs(json_lines, "janitor")
    assert set(RUN_FIELDS) <= set(record)
    assert (record["kind"], record["correlation_id"], record["user_id"]) == (
        "janitor",
        "c-claim",
        "u9",
    )
    assert (record["step"], record["from_status"], record["to_status"]) == (
        "resolve",
        "resolving",
        "resolved",
    )


def test_a_timer_job_and_its_step_have_records(build: Build, json_lines: Lines) -> None:
    clock = VirtualClock(start=datetime(2026, 1, 1, tzinfo=UTC))
    queue = InMemoryQueue(clock)
    engine, _ = build(entities=1, status="triaged", engine_kw={"queue": queue, "clock": clock})
    assert engine.execute_step("ticket", "e0", "system", correlation_id="c-timer").ok
    clock.advance(timedelta(days=8))
    assert len(queue.run_due()) == 1
    (timer,) = runs(json_lines, "timer")
    assert set(RUN_FIELDS) <= set(timer)
    assert {k: timer[k] for k in ("correlation_id", "requester_type", "step", "outcome")} == {
        "correlation_id": "c-timer",
        "requester_type": "admin",
        "step": "close",
        "outcome": "transitioned",
    }
    assert (timer["from_status"], timer["to_status"], timer["timer"]) == (
        "resolved",
        "closed",
        "auto_close",
    )
    fired = [r for r in runs(json_lines, "step") if r["kind"] == "timer"]
    assert [(r["step"], r["correlation_id"]) for r in fired] == [("close", "c-timer")]


def test_an_adopted_correlation_id_reaches_the_record_and_the_history(
    build: Build, json_lines: Lines
) -> None:
    engine, _ = build(entities=1)
    with wfnb.use(correlation_id="incoming-7", user_id="u-in"):
        result = engine.execute_step("ticket", "e0", "admin")
    assert result.correlation_id == "incoming-7"
    (record,) = runs(json_lines, "step")
    assert (record["correlation_id"], record["user_id"]) == ("incoming-7", "u-in")
    with engine.db.connect() as conn:
        stored = conn.execute(sa.text("SELECT correlation_id, user_id FROM workflow_history")).all()
    assert [tuple(r) for r in stored] == [("incoming-7", "u-in")]


def test_a_batch_gives_one_record_per_entity(build: Build, json_lines: Lines) -> None:
    engine, _ = build(entities=3, status="resolved")
    results = engine.execute_batch(
        "ticket", ["e0", "e1", "e2"], "admin", step="close", correlation_id="c-batch"
    )
    assert all(r.ok for r in results)
    steps = runs(json_lines, "step")
    assert sorted(r["entity_id"] for r in steps) == ["e0", "e1", "e2"]
    assert {(r["correlation_id"], r["to_status"]) for r in steps} == {("c-batch", "closed")}

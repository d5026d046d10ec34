"""``Engine.run_timer`` refuses a job that matches no declared timer (issue 16 QA).

A hand-made ``TimerJob`` naming a timer the workflow does not declare (or a declared
timer's key with another step, requester type or status) used to run its step as a timer:
now it comes back as WF202 (the job does not apply) and nothing is written.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from tests.unit.engine.test_timers_wired import WAITING
from wfnb import testing
from wfnb.engine import Engine
from wfnb.spec import Workflow
from wfnb.timers import InMemoryQueue, VirtualClock
from wfnb.timers.port import TimerJob

START = datetime(2026, 1, 1, tzinfo=UTC)
ENVELOPE = {"v": 1, "correlation_id": "forged-timer"}


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    clock = VirtualClock(START)
    wf = Workflow.model_validate(WAITING)
    engine = Engine([wf], db_url, queue=InMemoryQueue(clock), clock=clock)
    engine.install()
    testing.create_entity_table(engine.db, wf)
    testing.insert_entity(engine.db, wf, "a1")
    try:
        yield engine
    finally:
        engine.dispose()


def _state(engine: Engine) -> tuple[object, ...]:
    with engine.db.connect() as conn:
        entity = conn.execute(sa.text("SELECT status, version FROM applications")).one()
        history = conn.execute(sa.text("SELECT count(*) FROM workflow_history")).scalar_one()
        outbox = conn.execute(sa.text("SELECT count(*) FROM workflow_outbox")).scalar_one()
    return (tuple(entity), history, outbox)


@pytest.mark.parametrize(
    ("key", "step", "requester", "status"),
    [
        ("nonexistent_timer", "expire", "system", "waiting"),  # no such timer
        ("reminder", "expire", "system", "waiting"),  # a timer's key, another step
        ("deadline", "expire", "user", "waiting"),  # another requester type
        ("deadline", "resume", "user", "parked"),  # another status
    ],
)
def test_a_job_matching_no_declared_timer_is_refused_and_writes_nothing(
    engine: Engine, key: str, step: str, requester: str, status: str
) -> None:
    before = _state(engine)
    job = TimerJob("application", "a1", key, step, requester, status, 0, START, ENVELOPE)
    result = engine.run_timer(job)
    assert not result.ok
    assert result.error is not None
    assert result.error.code == "WF202"
    assert "no declared timer" in result.error.message
    assert _state(engine) == before


def test_a_declared_timer_still_runs(engine: Engine) -> None:
    job = TimerJob(
        "application", "a1", "deadline", "expire", "system", "waiting", 0, START, ENVELOPE
    )
    result = engine.run_timer(job)
    assert result.ok, result.error
    assert result.to_status == "expired"

"""``Engine.rearm_timers`` brings back a timer whose run never finished, on both dialects.

The in-memory queue's parity with the durable one (ADR 0052): a timer job whose runner
raised (the database went away mid-job) is gone from the queue, but its dedup key is not
finished, so the recovery pass arms it again and the transition then happens once. A timer
that ran to the end is never armed again.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.unit.engine.test_timers_wired import START, WAITING
from wfnb import testing
from wfnb.engine import Engine
from wfnb.exceptions import StoreError
from wfnb.spec import Workflow
from wfnb.timers import InMemoryQueue, TimerJob, VirtualClock


class FailsFirst:
    """The engine as runner, but the first timer run fails as a lost connection would."""

    def __init__(self, engine: Engine) -> None:
        self.engine, self.failed = engine, 0

    def run_timer(self, job: TimerJob) -> object:
        if not self.failed:
            self.failed += 1
            raise StoreError("connection lost")
        return self.engine.run_timer(job)


@pytest.fixture
def setup(db_url: str) -> Iterator[tuple[Engine, InMemoryQueue, VirtualClock]]:
    clock = VirtualClock(START)
    queue = InMemoryQueue(clock)
    wf = Workflow.model_validate(WAITING)
    engine = Engine([wf], db_url, queue=queue, clock=clock)
    engine.install()
    testing.create_entity_table(engine.db, wf)
    testing.insert_entity(engine.db, wf, "a1")
    try:
        yield engine, queue, clock
    finally:
        engine.dispose()


def timer_rows(engine: Engine) -> list[tuple[str, str]]:
    with engine.db.connect() as conn:
        stmt = sa.text(
            "SELECT step_key, to_status FROM workflow_history WHERE kind = 'timer' ORDER BY id"
        )
        return [(str(r[0]), str(r[1])) for r in conn.execute(stmt)]


def test_rearm_timers_rearms_a_timer_whose_run_raised_and_it_then_applies_once(
    setup: tuple[Engine, InMemoryQueue, VirtualClock],
) -> None:
    engine, queue, clock = setup
    assert engine.created("application", "a1", correlation_id="c-1").ok
    queue.bind(FailsFirst(engine))
    with pytest.raises(StoreError):
        queue.run_until(START + timedelta(days=7))  # the reminder's run dies
    assert [j.timer_key for j in queue.pending()] == ["deadline"]

    rearmed = engine.rearm_timers()
    assert [j.timer_key for j in rearmed] == ["reminder"]
    assert engine.rearm_timers() == []  # armed once, not once per pass

    queue.run_due()
    assert timer_rows(engine) == [("remind", "waiting")]
    assert engine.rearm_timers() == []  # it finished: never again
    queue.run_until(START + timedelta(days=30))
    assert timer_rows(engine) == [("remind", "waiting"), ("expire", "expired")]
    assert clock.now() == START + timedelta(days=30)

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from wfnb.exceptions import ContextMissingError, QueueError, StoreError, WfnbUsageError
from wfnb.timers import (
    BindableQueue,
    CancellableQueue,
    InMemoryQueue,
    JobQueue,
    SystemClock,
    TimerJob,
    VirtualClock,
    arm_timers,
)

from .helpers import ENVELOPE, RecordingRunner, timed_workflow

JAN31 = datetime(2026, 1, 31, 9, 30, tzinfo=UTC)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(start=JAN31)


@pytest.fixture
def queue(clock: VirtualClock) -> InMemoryQueue:
    return InMemoryQueue(clock)


@pytest.fixture
def runner(queue: InMemoryQueue) -> RecordingRunner:
    r = RecordingRunner(queue, timed_workflow())
    queue.bind(r)
    return r


def test_queue_satisfies_the_ports(queue: InMemoryQueue) -> None:
    assert isinstance(queue, JobQueue)
    assert isinstance(queue, CancellableQueue)
    assert isinstance(queue, BindableQueue)


def test_timer_fires_at_its_due_time_and_not_before(
    clock: VirtualClock, queue: InMemoryQueue, runner: RecordingRunner
) -> None:
    (job,) = runner.enter("7", "approved", 2, clock.now())
    due = datetime(2026, 2, 28, 9, 30, tzinfo=UTC)  # P1M from Jan 31: end of February
    assert job.due_at == due

    clock.set(due - timedelta(seconds=1))
    assert queue.run_due() == []
    assert runner.entities["7"] == ("approved", 2)

    clock.advance(timedelta(seconds=1))
    assert queue.run_due() == [job]
    assert runner.entities["7"] == ("paid", 3)
    assert runner.calls == [(job.dedup_key, due)]
    assert queue.pending() == []
    assert queue.ran[0].result.outcome == "transitioned"


def test_arming_twice_for_one_entry_arms_once(
    clock: VirtualClock, queue: InMemoryQueue, runner: RecordingRunner
) -> None:
    first = runner.enter("7", "approved", 2, clock.now())
    again = arm_timers(queue, runner.wf, "7", "approved", 2, clock.now(), ENVELOPE)
    assert len(first) == 1
    assert again == []
    assert queue.pending() == first


def test_a_key_stays_armed_after_its_job_ran(
    clock: VirtualClock, queue: InMemoryQueue, runner: RecordingRunner
) -> None:
    (job,) = runner.enter("7", "approved", 2, clock.now())
    queue.run_until(job.due_at)
    assert queue.enqueue(job) is False
    assert queue.pending() == []


def test_reentry_with_a_new_version_arms_again_and_the_old_timer_is_a_no_op(
    clock: VirtualClock, queue: InMemoryQueue, runner: RecordingRunner
) -> None:
    (old,) = runner.enter("7", "approved", 2, clock.now())
    clock.advance(timedelta(days=3))
    (new,) = runner.enter("7", "approved", 4, clock.now())
    assert old.dedup_key != new.dedup_key
    assert queue.pending() == [old, new]

    ran = queue.run_until(new.due_at)
    assert ran == [old, new]
    assert [r.result.outcome for r in queue.ran] == ["skipped", "transitioned"]
    assert runner.entities["7"] == ("paid", 5)


def test_run_until_steps_the_clock_through_due_times_in_order(
    clock: VirtualClock, queue: InMemoryQueue, runner: RecordingRunner
) -> None:
    start = clock.now()
    runner.enter("a", "waiting", 1, start)  # nudges itself every 3 days
    runner.enter("b", "approved", 1, start + timedelta(days=1))  # due Mar 1 (P1M of Feb 1)
    end = start + timedelta(days=31)

    ran = queue.run_until(end)

    moments = [r.ran_at for r in queue.ran]
    assert moments == sorted(moments)
    assert [r.ran_at for r in queue.ran] == [j.due_at for j in ran]  # each at its own moment
    nudges = [r for r in queue.ran if r.job.entity_id == "a"]
    assert [r.ran_at - start for r in nudges] == [timedelta(days=3 * k) for k in range(1, 11)]
    assert [r.job.entered_version for r in nudges] == list(range(1, 11))
    assert runner.entities["b"] == ("paid", 2)
    assert clock.now() == end
    (left,) = queue.pending()
    assert (left.entity_id, left.due_at) == ("a", start + timedelta(days=33))


def test_run_due_leaves_a_job_armed_while_running_for_its_own_time(
    clock: VirtualClock, queue: InMemoryQueue, runner: RecordingRunner
) -> None:
    start = clock.now()
    runner.enter("a", "waiting", 1, start - timedelta(days=7))  # first nudge was due at -4d
    ran = queue.run_due()
    assert [j.entered_version for j in ran] == [1]  # the nudge re-entered now: next at +3d
    assert [j.due_at for j in queue.pending()] == [start + timedelta(days=3)]


def test_run_due_runs_a_job_armed_while_running_that_is_already_due(
    clock: VirtualClock, queue: InMemoryQueue
) -> None:
    def job(key: str) -> TimerJob:
        return TimerJob("invoice", "7", key, "pay", "system", "approved", 1, clock.now(), ENVELOPE)

    class ChainRunner:
        def __init__(self) -> None:
            self.seen: list[str] = []

        def run_timer(self, timer: TimerJob) -> str:
            self.seen.append(timer.timer_key)
            if timer.timer_key == "first":
                queue.enqueue(job("second"))
            return "ok"

    chain = ChainRunner()
    queue.bind(chain)
    queue.enqueue(job("first"))
    assert [j.timer_key for j in queue.run_due()] == ["first", "second"]
    assert chain.seen == ["first", "second"]


def test_advance_and_run(
    clock: VirtualClock, queue: InMemoryQueue, runner: RecordingRunner
) -> None:
    start = clock.now()
    runner.enter("a", "waiting", 1, start)
    assert queue.advance_and_run(timedelta(days=2)) == []
    assert len(queue.advance_and_run(timedelta(days=5))) == 2  # days 3 and 6
    assert clock.now() == start + timedelta(days=7)


def test_missing_envelope_raises_context_missing_when_the_job_runs(
    clock: VirtualClock, queue: InMemoryQueue, runner: RecordingRunner
) -> None:
    job = TimerJob("invoice", "7", "auto_pay", "pay", "system", "approved", 2, clock.now(), {})
    assert queue.enqueue(job)
    with pytest.raises(ContextMissingError) as info:
        queue.run_due()
    assert info.value.code == "WF209"
    assert runner.calls == []


def test_incomplete_envelope_is_refused_at_arming(
    clock: VirtualClock, queue: InMemoryQueue, runner: RecordingRunner
) -> None:
    partial = {k: v for k, v in ENVELOPE.items() if k != "correlation_id"}
    with pytest.raises(ContextMissingError, match="correlation_id"):
        arm_timers(queue, runner.wf, "7", "approved", 2, clock.now(), partial)
    assert queue.pending() == []


def test_a_status_without_timers_arms_nothing_even_without_context(
    clock: VirtualClock, queue: InMemoryQueue, runner: RecordingRunner
) -> None:
    assert arm_timers(queue, runner.wf, "7", "draft", 1, clock.now(), {}) == []


def test_running_without_a_runner_is_a_queue_error(clock: VirtualClock) -> None:
    queue = InMemoryQueue(clock)
    arm_timers(
        queue, timed_workflow(), "7", "approved", 1, clock.now() - timedelta(days=40), ENVELOPE
    )
    with pytest.raises(QueueError, match="no runner bound"):
        queue.run_due()


def test_cancel_for_drops_only_that_entitys_pending_jobs(
    clock: VirtualClock, queue: InMemoryQueue, runner: RecordingRunner
) -> None:
    runner.enter("7", "approved", 2, clock.now())
    (other,) = runner.enter("8", "approved", 2, clock.now())
    assert queue.cancel_for("invoice", "7") == 1
    assert queue.pending() == [other]
    assert queue.run_until(other.due_at) == [other]
    assert runner.entities["7"] == ("approved", 2)


def test_run_until_needs_a_virtual_clock() -> None:
    queue = InMemoryQueue(SystemClock())
    with pytest.raises(WfnbUsageError):
        queue.run_until(datetime.now(UTC))


def test_one_structured_log_line_per_job(
    clock: VirtualClock,
    queue: InMemoryQueue,
    runner: RecordingRunner,
    caplog: pytest.LogCaptureFixture,
) -> None:
    (job,) = runner.enter("7", "approved", 2, clock.now())
    with caplog.at_level(logging.INFO, logger="wfnb.timers"):
        queue.run_until(job.due_at)
    lines = [r.getMessage() for r in caplog.records if r.name == "wfnb.timers"]
    assert len(lines) == 1
    assert lines[0].startswith("event=timer_ran ")
    assert f"dedup_key={job.dedup_key}" in lines[0]
    assert "outcome=transitioned" in lines[0]
    assert "correlation_id=corr-1" in lines[0]


class RaisesOnce:
    """A runner whose first run raises (a database gone mid-job), then delegates."""

    def __init__(self, inner: RecordingRunner) -> None:
        self.inner, self.raised = inner, 0

    def run_timer(self, job: TimerJob) -> object:
        if not self.raised:
            self.raised += 1
            raise StoreError("the database went away mid-job")
        return self.inner.run_timer(job)


def test_a_key_whose_job_raised_is_armed_again_and_then_runs_once(
    clock: VirtualClock, queue: InMemoryQueue, runner: RecordingRunner
) -> None:
    (job,) = runner.enter("7", "approved", 2, clock.now())
    queue.bind(RaisesOnce(runner))
    with pytest.raises(StoreError):
        queue.run_until(job.due_at)
    assert queue.pending() == []

    assert queue.enqueue(job) is True  # it never finished: a recovery pass brings it back
    assert queue.enqueue(job) is False  # waiting again: once
    assert queue.run_due() == [job]
    assert runner.entities["7"] == ("paid", 3)
    assert queue.enqueue(job) is False  # finished now: never again


def test_a_key_whose_job_keeps_raising_is_armed_again_at_most_max_rearms_times(
    clock: VirtualClock,
) -> None:
    queue = InMemoryQueue(clock, max_rearms=2)
    queue.bind(RecordingRunner(queue, timed_workflow()))
    job = TimerJob("invoice", "7", "auto_pay", "pay", "system", "approved", 1, clock.now(), {})
    assert queue.enqueue(job) is True
    for _ in range(2):
        with pytest.raises(ContextMissingError):  # no envelope: it raises every time
            queue.run_due()
        assert queue.enqueue(job) is True
    with pytest.raises(ContextMissingError):
        queue.run_due()
    assert queue.enqueue(job) is False


def test_a_running_key_is_not_armed_again(clock: VirtualClock, queue: InMemoryQueue) -> None:
    job = TimerJob(
        "invoice", "7", "auto_pay", "pay", "system", "approved", 1, clock.now(), ENVELOPE
    )
    seen: list[bool] = []

    class Rearming:
        def run_timer(self, timer: TimerJob) -> str:
            seen.append(queue.enqueue(timer))  # a recovery pass while the job runs
            return "ok"

    queue.bind(Rearming())
    queue.enqueue(job)
    assert queue.run_due() == [job]
    assert seen == [False]
    assert queue.pending() == []


def test_a_cancelled_key_is_not_armed_again(
    clock: VirtualClock, queue: InMemoryQueue, runner: RecordingRunner
) -> None:
    (job,) = runner.enter("7", "approved", 2, clock.now())
    assert queue.cancel_for("invoice", "7") == 1
    assert queue.enqueue(job) is False  # dropped but still in the heap
    assert queue.run_until(job.due_at) == []
    assert queue.enqueue(job) is False  # dropped for good: a cancel is not a crash
    assert runner.calls == []

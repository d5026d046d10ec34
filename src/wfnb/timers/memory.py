"""The in-memory job queue on a virtual clock: sandbox, simulation and tests.

Jobs sit in a heap ordered by due time (ties: arming order). ``run_due`` runs what is due
at the clock's current moment; ``run_until`` walks the clock from one due time to the
next, so a simulation sees every timer fire at its own moment, including timers armed by
the jobs it runs.

A dedup key is armed once, as on the durable queue: while its job waits or runs, after it
finished, and after ``cancel_for`` dropped it. A job whose runner raised never finished;
its key can be armed again (a recovery pass, ``Engine.rearm_timers``), at most
``MAX_REARMS`` times.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from wfnb.exceptions import WfnbUsageError
from wfnb.timers.clock import VirtualClock
from wfnb.timers.execution import run_job
from wfnb.timers.port import MAX_REARMS, Clock, TimerJob, TimerRunner

__all__ = ["InMemoryQueue", "RanJob"]


@dataclass(frozen=True, slots=True)
class RanJob:
    """A job the queue ran, with what the runner returned and the clock at that moment."""

    job: TimerJob
    result: object
    ran_at: datetime


class InMemoryQueue:
    """A ``JobQueue`` held in memory, run by hand against a clock.

    Example:
        >>> clock = VirtualClock(start=datetime(2026, 1, 1, tzinfo=UTC))
        >>> queue = InMemoryQueue(clock)
        >>> engine = Engine(wfs, db, queue=queue, clock=clock)   # binds itself
        >>> ran = queue.advance_and_run(timedelta(days=30))
    """

    def __init__(
        self, clock: Clock | None = None, *, name: str = "memory", max_rearms: int = MAX_REARMS
    ) -> None:
        self.clock: Clock = clock if clock is not None else VirtualClock()
        self.name = name
        self.max_rearms = max_rearms
        self._heap: list[tuple[datetime, int, TimerJob]] = []
        self._armed: dict[str, int] = {}  # dedup key -> how often it was re-armed
        self._live: set[str] = set()  # waiting in the heap or running now
        self._settled: set[str] = set()  # the runner returned, or cancel_for dropped it
        self._dropped: set[str] = set()
        self._seq = itertools.count()
        self._lock = threading.RLock()
        self._runner: TimerRunner | None = None
        self.ran: list[RanJob] = []
        """Every job run so far, in order, with its result (what simulations report)."""

    def bind(self, runner: TimerRunner) -> None:
        """Set who runs due jobs (the engine)."""
        self._runner = runner

    def enqueue(self, job: TimerJob) -> bool:
        """Arm ``job``; ``False`` when its dedup key was armed before (even if it ran).

        A key whose job raised (it never finished) is armed again, ``max_rearms`` times.
        """
        key = job.dedup_key
        with self._lock:
            if key in self._armed:
                done = key in self._live or key in self._settled
                if done or self._armed[key] >= self.max_rearms:
                    return False
                self._armed[key] += 1
            else:
                self._armed[key] = 0
            self._live.add(key)
            heapq.heappush(self._heap, (job.due_at, next(self._seq), job))
            return True

    def pending(self) -> list[TimerJob]:
        """Armed jobs not run yet, earliest due first."""
        with self._lock:
            live = [e for e in sorted(self._heap) if e[2].dedup_key not in self._dropped]
        return [job for _, _, job in live]

    def cancel_for(self, workflow: str, entity_id: str) -> int:
        """Drop the entity's pending jobs (they stay armed: re-arming them is a no-op)."""
        prefix = f"{workflow}:{entity_id}:"
        with self._lock:
            keys = {j.dedup_key for _, _, j in self._heap if j.dedup_key.startswith(prefix)}
            new = keys - self._dropped
            self._dropped |= new
            return len(new)

    def next_due(self) -> datetime | None:
        """When the earliest pending job is due, if any."""
        pending = self.pending()
        return pending[0].due_at if pending else None

    def run_due(self) -> list[TimerJob]:
        """Run every job due at ``clock.now()``, including ones armed while running.

        Returns:
            The jobs run, in the order they ran.

        Raises:
            QueueError: A job is due and no runner is bound.
            ContextMissingError: A due job has no request-context envelope.
        """
        done: list[TimerJob] = []
        while (job := self._pop_due(self.clock.now())) is not None:
            try:
                result = run_job(self._runner, job, queue=self.name)
            except BaseException:
                self._release(job.dedup_key, finished=False)
                raise
            self._release(job.dedup_key, finished=True)
            self.ran.append(RanJob(job, result, self.clock.now()))
            done.append(job)
        return done

    def run_until(self, moment: datetime) -> list[TimerJob]:
        """Step the clock to each due time up to ``moment``, running jobs as they fall due.

        The clock ends at ``moment`` (or where it was, if already later). Needs a clock
        with ``set`` (a ``VirtualClock``).
        """
        clock = self._virtual()
        done = self.run_due()
        while (due := self.next_due()) is not None and due <= moment:
            if due > clock.now():
                clock.set(due)
            done += self.run_due()
        if moment > clock.now():
            clock.set(moment)
        return done

    def advance_and_run(self, delta: timedelta) -> list[TimerJob]:
        """``run_until(clock.now() + delta)``."""
        return self.run_until(self.clock.now() + delta)

    def _pop_due(self, now: datetime) -> TimerJob | None:
        with self._lock:
            while self._heap and self._heap[0][0] <= now:
                job = heapq.heappop(self._heap)[2]
                if job.dedup_key in self._dropped:
                    self._dropped.discard(job.dedup_key)
                    self._release(job.dedup_key, finished=True)  # cancelled: never re-armed
                    continue
                return job  # still live: running now
            return None

    def _release(self, key: str, *, finished: bool) -> None:
        """The job of ``key`` is no longer waiting or running; ``finished`` settles the key."""
        with self._lock:
            self._live.discard(key)
            if finished:
                self._settled.add(key)

    def _virtual(self) -> VirtualClock:
        if not isinstance(self.clock, VirtualClock):
            raise WfnbUsageError(
                "run_until / advance_and_run need a VirtualClock; with another clock "
                "call run_due() when time has passed"
            )
        return self.clock

    def __len__(self) -> int:
        return len(self.pending())

    def __repr__(self) -> str:
        return f"<InMemoryQueue {len(self)} pending, {len(self.ran)} ran, now {self.clock.now()}>"

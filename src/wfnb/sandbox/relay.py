"""A clock and a timer queue the sandbox can swap between runs under one engine.

An ``Engine`` takes its clock and queue once, at construction; a sandbox reused for many
dry-runs gives each run a fresh ``VirtualClock`` and ``InMemoryQueue`` through these.
"""

from __future__ import annotations

from datetime import datetime

from wfnb.engine.clock import Clock
from wfnb.timers import InMemoryQueue, VirtualClock
from wfnb.timers.port import TimerJob, TimerRunner

__all__ = ["ClockRelay", "QueueRelay"]


class ClockRelay:
    """A ``Clock`` that asks whichever clock is current."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.current: Clock = clock if clock is not None else VirtualClock()

    def now(self) -> datetime:
        """The current clock's time."""
        return self.current.now()

    def __repr__(self) -> str:
        return f"ClockRelay({self.current!r})"


class QueueRelay:
    """A bindable ``JobQueue`` passing everything to a fresh ``InMemoryQueue`` per run."""

    def __init__(self, clock: Clock) -> None:
        self._runner: TimerRunner | None = None
        self.current = InMemoryQueue(clock, name="sandbox")

    def renew(self, clock: Clock) -> InMemoryQueue:
        """Start an empty queue on ``clock`` (bound to the same engine) and return it."""
        self.current = InMemoryQueue(clock, name="sandbox")
        if self._runner is not None:
            self.current.bind(self._runner)
        return self.current

    def bind(self, runner: TimerRunner) -> None:
        """Remember the engine that runs due jobs (and bind the current queue to it)."""
        self._runner = runner
        self.current.bind(runner)

    def enqueue(self, job: TimerJob) -> bool:
        """Arm ``job`` on the current queue."""
        return self.current.enqueue(job)

    def pending(self) -> list[TimerJob]:
        """The current queue's pending jobs."""
        return self.current.pending()

    def cancel_for(self, workflow: str, entity_id: str) -> int:
        """Drop the entity's pending jobs on the current queue."""
        return self.current.cancel_for(workflow, entity_id)

    def __repr__(self) -> str:
        return f"QueueRelay({self.current!r})"

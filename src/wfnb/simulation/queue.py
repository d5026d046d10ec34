"""``SimQueue``: the in-memory timer queue with a constant-time look at the next due job.

``InMemoryQueue.next_due`` sorts every pending job to find the earliest; a simulation
asks after every event, with thousands of timers armed, so it peeks at the heap instead.
A job dropped with ``cancel_for`` may still be what it sees: the loop then runs the
queue up to that moment, the queue discards the dropped job, and nothing else happens.
"""

from __future__ import annotations

from datetime import datetime

from wfnb.timers import InMemoryQueue

__all__ = ["SimQueue"]


class SimQueue(InMemoryQueue):
    """An ``InMemoryQueue`` whose ``next_due`` is a heap peek."""

    def next_due(self) -> datetime | None:
        """When the earliest armed job is due (possibly a dropped one), if any."""
        with self._lock:
            return self._heap[0][0] if self._heap else None

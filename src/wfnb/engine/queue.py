"""The job-queue port as the engine sees it: ``TimerJob`` and ``JobQueue`` (from wfnb.timers)."""

from __future__ import annotations

from wfnb.timers.port import JobQueue, TimerJob

__all__ = ["JobQueue", "TimerJob"]

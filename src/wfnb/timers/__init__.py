"""Durable timers: the job-queue port, arming, the virtual clock and the two queues.

``InMemoryQueue`` (with ``VirtualClock``) serves the sandbox, simulations and tests;
``ProcrastinateQueue`` (PostgreSQL, procrastinate) is the durable one and is imported
lazily, so ``import wfnb.timers`` never needs procrastinate or psycopg.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wfnb.timers.arming import arm_timers, plan_timers
from wfnb.timers.clock import SystemClock, VirtualClock
from wfnb.timers.memory import InMemoryQueue, RanJob
from wfnb.timers.port import (
    BindableQueue,
    CancellableQueue,
    Clock,
    JobQueue,
    RecoveryRunner,
    TimerJob,
    TimerRunner,
)

if TYPE_CHECKING:
    from wfnb.timers.durable import ProcrastinateQueue

__all__ = [
    "BindableQueue",
    "CancellableQueue",
    "Clock",
    "InMemoryQueue",
    "JobQueue",
    "ProcrastinateQueue",
    "RanJob",
    "RecoveryRunner",
    "SystemClock",
    "TimerJob",
    "TimerRunner",
    "VirtualClock",
    "arm_timers",
    "plan_timers",
]


def __getattr__(name: str) -> Any:
    if name == "ProcrastinateQueue":
        from wfnb.timers.durable import ProcrastinateQueue  # noqa: PLC0415  # optional extra

        return ProcrastinateQueue
    raise AttributeError(f"module 'wfnb.timers' has no attribute {name!r}")

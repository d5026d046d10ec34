"""The job-queue port: timers armed on entering a status become ``TimerJob``s."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

__all__ = ["JobQueue", "TimerJob"]


@dataclass(frozen=True, slots=True)
class TimerJob:
    """Run ``step`` as ``requester_type`` at ``due_at`` if the entity still sits at ``status``.

    The job is still relevant only while the entity is at ``status`` with the version
    ``entered_version`` its arming transition wrote. ``envelope`` is that transition's
    request context; a worker restores it (and refuses a job without one: WF209).
    """

    workflow: str
    entity_id: str
    timer_key: str
    step: str
    requester_type: str
    status: str
    entered_version: int
    due_at: datetime
    envelope: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class JobQueue(Protocol):
    """Where the engine hands timer jobs (in-memory for simulations, durable in production)."""

    def enqueue(self, job: TimerJob) -> None:
        """Accept ``job`` for running at ``job.due_at``."""
        ...

"""The job-queue port of durable timers: ``TimerJob`` and the protocols around it.

The engine arms a ``TimerJob`` on a ``JobQueue`` after a transition commits; when the job
is due, the queue hands it to a ``TimerRunner`` (the engine), which re-opens the request
context from the job's envelope and runs the timer's step. Queues and runners only meet
through these protocols, so the in-memory queue (virtual clock) and the durable one
(procrastinate on PostgreSQL) are interchangeable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

from wfnb.exceptions import ContextMissingError, QueueError

__all__ = [
    "ENVELOPE_KEYS",
    "MAX_REARMS",
    "PAYLOAD_VERSION",
    "BindableQueue",
    "CancellableQueue",
    "Clock",
    "JobQueue",
    "RecoveryRunner",
    "TimerJob",
    "TimerRunner",
    "require_envelope",
]

ENVELOPE_KEYS = ("correlation_id", "tenant_id", "user_id", "requester_type")
"""Keys every envelope carries; ``tenant_id`` and ``user_id`` may be ``None``."""

_NON_EMPTY_KEYS = ("correlation_id", "requester_type")

PAYLOAD_VERSION = 1
"""Version of ``TimerJob.to_json``; bumped when the durable payload changes shape."""

MAX_REARMS = 3
"""How often a queue re-arms one dedup key whose job never finished (it raised, failed or
was lost) before leaving it alone: a timer that keeps failing is not re-run forever."""


def require_envelope(envelope: Mapping[str, Any] | None, *, where: str) -> None:
    """Raise ``ContextMissingError`` unless ``envelope`` is a complete request context.

    Args:
        envelope: The request-context mapping carried by a job.
        where: What crossed the boundary (named in the error message).
    """
    if not envelope:
        raise ContextMissingError(f"{where} carries no request-context envelope", where=where)
    missing = [k for k in ENVELOPE_KEYS if k not in envelope]
    missing += [k for k in _NON_EMPTY_KEYS if k in envelope and not envelope[k]]
    if missing:
        raise ContextMissingError(
            f"{where} has an incomplete request-context envelope: {', '.join(missing)} missing",
            where=where,
            missing=tuple(missing),
        )


@dataclass(frozen=True, slots=True)
class TimerJob:
    """One armed timer: run ``step`` as ``requester_type`` at ``due_at``, if still relevant.

    The job is relevant when the entity is still at ``status`` with version
    ``entered_version`` (the version the transition into ``status`` wrote); the runner
    checks that and does nothing otherwise.
    """

    workflow: str
    entity_id: str
    timer_key: str
    step: str
    requester_type: str
    status: str
    entered_version: int
    due_at: datetime
    envelope: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if self.due_at.utcoffset() is None:
            raise QueueError(
                f"timer {self.timer_key!r} has a naive due time {self.due_at.isoformat()}; "
                "use an aware datetime",
                timer_key=self.timer_key,
            )
        object.__setattr__(self, "entity_id", str(self.entity_id))
        object.__setattr__(self, "due_at", self.due_at.astimezone(UTC))
        object.__setattr__(self, "envelope", MappingProxyType(dict(self.envelope or {})))

    @property
    def dedup_key(self) -> str:
        """Identity of this arming: the same entry into a status never arms twice."""
        return f"{self.workflow}:{self.entity_id}:{self.timer_key}:{self.entered_version}"

    def require_envelope(self) -> None:
        """Raise ``ContextMissingError`` when the job lost its request context."""
        require_envelope(self.envelope, where=f"timer job {self.dedup_key}")

    def to_json(self) -> dict[str, Any]:
        """The durable payload: plain JSON types only."""
        return {
            "v": PAYLOAD_VERSION,
            "workflow": self.workflow,
            "entity_id": self.entity_id,
            "timer_key": self.timer_key,
            "step": self.step,
            "requester_type": self.requester_type,
            "status": self.status,
            "entered_version": self.entered_version,
            "due_at": self.due_at.isoformat(),
            "envelope": dict(self.envelope),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TimerJob:
        """Rebuild a job from ``to_json`` output.

        Raises:
            ContextMissingError: The payload has no (or an incomplete) envelope.
            QueueError: The payload is malformed otherwise.
        """
        where = f"timer payload {data.get('workflow')}:{data.get('entity_id')}"
        require_envelope(data.get("envelope"), where=where)
        try:
            return cls(
                workflow=str(data["workflow"]),
                entity_id=str(data["entity_id"]),
                timer_key=str(data["timer_key"]),
                step=str(data["step"]),
                requester_type=str(data["requester_type"]),
                status=str(data["status"]),
                entered_version=int(data["entered_version"]),
                due_at=datetime.fromisoformat(str(data["due_at"])),
                envelope=data["envelope"],
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise QueueError(f"malformed {where}: {exc!r}", payload=dict(data)) from exc


@runtime_checkable
class Clock(Protocol):
    """Anything that tells the time as an aware datetime (system or virtual)."""

    def now(self) -> datetime:
        """The current moment, timezone-aware."""
        ...


@runtime_checkable
class JobQueue(Protocol):
    """Where the engine arms timers."""

    def enqueue(self, job: TimerJob) -> bool:
        """Arm ``job``; ``False`` when its ``dedup_key`` was already armed (never twice).

        A key whose job never finished (the runner raised, the job failed or was lost) and
        can no longer run may be armed again, at most ``MAX_REARMS`` times: that is how a
        recovery pass brings back a timer a crash took.
        """
        ...

    def pending(self) -> list[TimerJob]:
        """Armed jobs not run yet, earliest due first."""
        ...


@runtime_checkable
class CancellableQueue(JobQueue, Protocol):
    """A queue that can also drop an entity's pending timers (optional capability)."""

    def cancel_for(self, workflow: str, entity_id: str) -> int:
        """Drop every pending job of the entity; returns how many were dropped."""
        ...


@runtime_checkable
class BindableQueue(JobQueue, Protocol):
    """A queue that runs its own due jobs once told who runs them (both queues here)."""

    def bind(self, runner: TimerRunner) -> None:
        """Set who runs due jobs; the engine calls ``queue.bind(self)`` on construction."""
        ...


@runtime_checkable
class TimerRunner(Protocol):
    """What runs a due job (the engine implements it).

    ``run_timer`` re-opens the request context from ``job.envelope`` and runs
    ``job.step`` as ``job.requester_type``, but only when the entity is still at
    ``job.status`` with version ``job.entered_version``; otherwise it does nothing and
    logs. It returns whatever describes the outcome (the engine's ``StepResult``).
    Raising ``StoreError`` marks a transient failure the durable queue retries.
    """

    def run_timer(self, job: TimerJob) -> object:
        """Run one due job."""
        ...


@runtime_checkable
class RecoveryRunner(Protocol):
    """A runner that can also repair state; the durable worker calls it periodically.

    ``recover`` hands stale claims to janitors (``Engine.recover_claims``) and re-arms
    timers that should exist but do not (arming is deduplicated, so re-arming all
    entities at timed statuses is safe).
    """

    def recover(self) -> object:
        """One recovery pass."""
        ...

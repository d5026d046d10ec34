"""Arming timers: the jobs an entry into a status schedules (the engine calls this after commit).

A timer's step runs as its declared requester with no user: the envelope a job carries
keeps the arming call's correlation id and tenant (lineage), empties ``user_id`` and keeps
the arming user as ``armed_by`` (for audit: it lands in the timer's history metadata).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from wfnb.spec import Workflow, add_duration
from wfnb.timers.port import JobQueue, TimerJob, require_envelope

__all__ = ["ARMED_BY", "arm_timers", "plan_timers", "timer_envelope"]

ARMED_BY = "armed_by"
"""The envelope key (and history metadata key) of the user whose step armed a timer."""

logger = logging.getLogger("wfnb.timers")


def plan_timers(  # noqa: PLR0917  # mirrors arm_timers, the engine's positional contract
    wf: Workflow,
    entity_id: object,
    status: str,
    version: int,
    entered_at: datetime,
    envelope: Mapping[str, Any],
) -> list[TimerJob]:
    """The jobs entering ``status`` schedules, without arming them (dry-runs show these).

    Args:
        wf: The entity's workflow.
        entity_id: The entity's id (kept as text).
        status: The status just entered.
        version: The entity's version after the transition into ``status``.
        entered_at: When the transition committed (the engine's clock).
        envelope: The request context to carry (``correlation_id``, ``tenant_id``,
            ``user_id``, ``requester_type``).

    Raises:
        ContextMissingError: ``envelope`` is missing or incomplete.
    """
    timers = wf.timers_at(status)
    if timers:
        require_envelope(envelope, where=f"timers of {wf.name}:{entity_id} at {status!r}")
    return [
        TimerJob(
            workflow=wf.name,
            entity_id=str(entity_id),
            timer_key=timer.key,
            step=timer.step,
            requester_type=timer.requester_type,
            status=status,
            entered_version=version,
            due_at=add_duration(entered_at, timer.after),
            envelope=timer_envelope(envelope, timer.requester_type),
        )
        for timer in timers
    ]


def timer_envelope(envelope: Mapping[str, Any], requester_type: str) -> dict[str, Any]:
    """The context a timer's step runs in: ``envelope`` as ``requester_type``, with no user.

    The correlation id and tenant stay (lineage); the arming user moves to ``armed_by``.
    Idempotent: an envelope already made by this function comes back unchanged.
    """
    out = dict(envelope)
    if ARMED_BY not in out:
        out[ARMED_BY] = out.get("user_id")
    out["user_id"] = None
    out["requester_type"] = requester_type
    return out


def arm_timers(  # noqa: PLR0917  # the engine calls it positionally (agreed contract)
    queue: JobQueue,
    wf: Workflow,
    entity_id: object,
    status: str,
    version: int,
    entered_at: datetime,
    envelope: Mapping[str, Any],
) -> list[TimerJob]:
    """Arm every timer of ``wf`` at ``status``; return the jobs actually armed.

    A job whose dedup key was armed before (a retry, a recovery pass) is skipped, so
    calling this twice for the same entry arms each timer once.

    Raises:
        ContextMissingError: ``envelope`` is missing or incomplete.
        QueueError: The queue refused or failed (the engine logs it; the step stands).
    """
    armed: list[TimerJob] = []
    for job in plan_timers(wf, entity_id, status, version, entered_at, envelope):
        if queue.enqueue(job):
            armed.append(job)
            logger.debug("timer armed %s due %s", job.dedup_key, job.due_at.isoformat())
    return armed

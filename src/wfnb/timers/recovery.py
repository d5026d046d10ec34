"""The durable worker's recovery pass: stalled jobs back to ``todo``, then the runner's repair.

A worker killed inside a job (SIGKILL, OOM, a lost host) leaves that job ``doing`` forever:
procrastinate never fetches it again by itself. Every worker sends heartbeats
(``procrastinate_workers.last_heartbeat``); a job is *stalled* when it is ``doing`` for a
worker whose heartbeat is older than ``stalled_after`` (or that was pruned).
``retry_stalled`` lists those jobs with procrastinate's ``get_stalled_jobs`` and hands each
back with ``retry_job`` (or fails it once it stalled ``max_stalled`` times, so a job that
kills every worker does not cycle forever). A retried timer whose step had already
committed finds its entity moved on and does nothing (WF202). See ADR 0052.

Passes of several workers on one queue serialise on an advisory lock: the list and the
retries of one pass happen while no other pass can retry the same job under a worker that
has fetched it meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from procrastinate import exceptions as pexc
from procrastinate import jobs as pjobs

from wfnb.exceptions import WfnbUsageError
from wfnb.store import ledger
from wfnb.timers.execution import log_event

if TYPE_CHECKING:
    import procrastinate

__all__ = ["RecoveryPolicy", "retry_stalled"]

logger = logging.getLogger("wfnb.timers")


@dataclass(frozen=True, slots=True)
class RecoveryPolicy:
    """When the worker's recovery pass runs and when a job counts as stalled.

    Attributes:
        interval: Seconds between two passes of a running worker (the first runs when the
            worker starts); ``None`` runs no pass at all.
        stalled_after: Seconds without a heartbeat after which a worker counts as dead and
            its ``doing`` jobs as stalled. Every worker of one queue must use the same
            value: a worker heartbeats every ``stalled_after / 3`` seconds.
        max_stalled: How often one job is retried after stalling before it is failed.
    """

    interval: float | None = 300.0
    stalled_after: float = 30.0
    max_stalled: int = 5

    def __post_init__(self) -> None:
        if self.interval is not None and not (self.interval > 0 and math.isfinite(self.interval)):
            raise WfnbUsageError(
                f"recovery interval {self.interval!r}: expected a positive number of seconds",
                value=self.interval,
            )
        if not (self.stalled_after > 0 and math.isfinite(self.stalled_after)):
            raise WfnbUsageError(
                f"stalled-after {self.stalled_after!r}: expected a positive number of seconds",
                value=self.stalled_after,
            )

    @property
    def heartbeat_interval(self) -> float:
        """How often a worker tells procrastinate it is alive (three beats per threshold)."""
        return self.stalled_after / 3


async def retry_stalled(
    app: procrastinate.App, db: sa.Engine, queue_name: str, policy: RecoveryPolicy
) -> list[int]:
    """Put the stalled jobs of ``queue_name`` back to ``todo`` (now); return their ids.

    Does nothing (returns ``[]``) while another worker's pass holds the recovery lock.

    Raises:
        sqlalchemy.exc.SQLAlchemyError, procrastinate.exceptions.ConnectorException: the
            database failed (the caller wraps them).
    """
    conn = await asyncio.to_thread(db.connect)
    try:
        await asyncio.to_thread(conn.begin)
        if not await asyncio.to_thread(ledger.try_lock_recovery, conn, queue_name):
            return []
        manager = app.job_manager
        stalled = await manager.get_stalled_jobs(
            queue=queue_name, seconds_since_heartbeat=policy.stalled_after
        )
        retried: list[int] = []
        for job in stalled:
            assert job.id is not None  # a job read from the database has one
            fields: dict[str, Any] = {
                "queue": queue_name,
                "job_id": job.id,
                "task": job.task_name,
                "lock": job.queueing_lock,
            }
            try:
                if job.attempts >= policy.max_stalled:
                    await manager.finish_job_by_id_async(
                        job.id, status=pjobs.Status.FAILED, delete_job=False
                    )
                    log_event(
                        logger, logging.ERROR, "stalled_job_failed", **fields, attempts=job.attempts
                    )
                    continue
                await manager.retry_job(job)
            except pexc.ConnectorException as exc:  # it finished or moved meanwhile
                log_event(logger, logging.WARNING, "stalled_job_skipped", **fields, error=str(exc))
                continue
            retried.append(job.id)
            log_event(
                logger, logging.WARNING, "stalled_job_retried", **fields, attempts=job.attempts + 1
            )
        return retried
    finally:
        await asyncio.to_thread(conn.close)  # rolls back: the advisory lock goes with it

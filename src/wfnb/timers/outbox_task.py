"""The outbox's delivery as a procrastinate periodic job of the worker (ADR 0102).

Each tick of ``outbox_cron`` (every second by default in ``wfnb worker``) defers one
``wfnb.outbox.deliver`` job (a queueing lock keeps at most one waiting); it calls the bound
runner's ``deliver_outbox()`` in a thread and logs ``event=outbox_delivered`` when it
delivered or failed anything. A runner without ``deliver_outbox`` skips.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import procrastinate

from wfnb.timers.execution import log_event

__all__ = ["OUTBOX_TASK", "register_outbox_task"]

OUTBOX_TASK = "wfnb.outbox.deliver"
"""procrastinate task name of one outbox delivery pass."""

logger = logging.getLogger("wfnb.outbox")


def register_outbox_task(
    app: procrastinate.App, queue_name: str, cron: str, runner: Callable[[], object]
) -> None:
    """Register the delivery task on ``app`` and defer it on ``cron``.

    ``runner()`` returns the runner bound when the job runs (the engine).
    """

    def deliver(timestamp: int) -> str:
        fn = getattr(runner(), "deliver_outbox", None)
        if not callable(fn):
            return "skipped"
        report: Any = fn()
        if report.delivered or report.failed:
            log_event(
                logger,
                logging.INFO,
                "outbox_delivered",
                queue=queue_name,
                tick=timestamp,
                delivered=report.delivered,
                failed=report.failed,
                pending=report.pending,
            )
        return "delivered" if report.ran else "skipped"

    task = app.task(
        name=OUTBOX_TASK, queue=queue_name, queueing_lock=f"{OUTBOX_TASK}:{queue_name}"
    )(deliver)
    app.periodic(cron=cron, periodic_id=f"{queue_name}:outbox")(task)

"""Running one due job: the envelope check, the runner call and one structured log line.

Both queues run jobs through ``run_job`` so a timer behaves (and logs) the same in a
simulation and in the durable worker. A job armed before timers ran without a user (its
envelope still names the arming user) runs as ``timer_envelope`` makes it: no user,
``armed_by`` kept.

Every job runs inside a cron context (``wfnb.cron(TIMER_CRON)``, with the envelope's
tenant; ADR 0103): the step itself runs in the envelope's context and records the cron's
name; the run record names it too.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import Any

from wfnb.engine.cron import CronContext
from wfnb.exceptions import QueueError, WfnbError
from wfnb.logs import log_timer
from wfnb.timers.arming import ARMED_BY, timer_envelope
from wfnb.timers.port import TimerJob, TimerRunner

__all__ = ["RECOVERY_CRON", "TIMER_CRON", "log_event", "log_line", "outcome_of", "run_job"]

TIMER_CRON = "wfnb.timers"
"""The cron name every timer job runs under (``wfnb.cron``)."""
RECOVERY_CRON = "wfnb.recovery"
"""The cron name of the worker's recovery pass (re-arming timers, stale claims' janitors)."""

logger = logging.getLogger("wfnb.timers")


def log_line(event: str, **fields: Any) -> str:
    """``event=... key=value ...``: one grep-able line; values with spaces are quoted."""
    parts = [f"event={event}"]
    for name, value in fields.items():
        text = "-" if value is None else str(value)
        parts.append(f"{name}={text!r}" if (" " in text or not text) else f"{name}={text}")
    return " ".join(parts)


_RESERVED = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
}


def log_event(
    log: logging.Logger, level: int, event: str, *, exc_info: bool = False, **fields: Any
) -> None:
    """One worker record: ``log_line``'s text as its message, its fields structured.

    ``event`` and each field ride as top-level attributes of the record (``extra``), so a
    JSON line carries them as keys, as the run records do (ADR 0100). A field named like a
    ``LogRecord`` attribute gets a trailing underscore.
    """
    if not log.isEnabledFor(level):
        return
    extra = {"event": event} | {(f"{k}_" if k in _RESERVED else k): v for k, v in fields.items()}
    log.log(level, log_line(event, **fields), exc_info=exc_info, extra=extra)


def outcome_of(result: object) -> str:
    """A short word for what the runner returned (a ``StepResult``'s outcome when it has one)."""
    outcome = getattr(result, "outcome", None)
    if outcome is not None:
        return str(getattr(outcome, "value", outcome))
    if result is None or isinstance(result, str):
        return result or "none"
    return type(result).__name__


def run_job(runner: TimerRunner | None, job: TimerJob, *, queue: str) -> object:
    """Run ``job`` with ``runner`` and log one line about it.

    Raises:
        QueueError: No runner is bound.
        ContextMissingError: The job lost its request-context envelope.
        Exception: Whatever the runner raised, re-raised after logging it.
    """
    if runner is None:
        raise QueueError(f"{queue}: no runner bound; call queue.bind(engine) first", queue=queue)
    started = time.perf_counter()
    fields: dict[str, Any] = {
        "queue": queue,
        "workflow": job.workflow,
        "entity_id": job.entity_id,
        "timer": job.timer_key,
        "step": job.step,
        "due_at": job.due_at.isoformat(),
        "dedup_key": job.dedup_key,
        "correlation_id": job.envelope.get("correlation_id"),
    }
    try:
        job.require_envelope()
        if ARMED_BY not in job.envelope:  # armed by an older wfnb: the user moves to armed_by
            job = replace(job, envelope=timer_envelope(job.envelope, job.requester_type))
        with CronContext(TIMER_CRON, tenant_id=_tenant(job)):  # unchecked: the engine checks
            result = runner.run_timer(job)
    except Exception as exc:
        error = exc.code if isinstance(exc, WfnbError) else type(exc).__name__
        elapsed = round((time.perf_counter() - started) * 1000, 3)
        message = log_line("timer_failed", **fields, error=error, duration_ms=elapsed)
        log_timer(  # the run record (ADR 0100); the traceback is the worker's to log
            logging.ERROR,
            message,
            job,
            queue=queue,
            duration_ms=elapsed,
            error_code=error,
            cron=TIMER_CRON,
        )
        raise
    elapsed = round((time.perf_counter() - started) * 1000, 3)
    outcome = outcome_of(result)
    message = log_line("timer_ran", **fields, outcome=outcome, duration_ms=elapsed)
    log_timer(  # the run record (ADR 0100)
        logging.INFO,
        message,
        job,
        queue=queue,
        duration_ms=elapsed,
        outcome=outcome,
        result=result,
        cron=TIMER_CRON,
    )
    return result


def _tenant(job: TimerJob) -> str | None:
    """The envelope's tenant when it is text (the engine checks it: WF208 if it cannot be)."""
    tenant = job.envelope.get("tenant_id")
    return tenant if isinstance(tenant, str) else None

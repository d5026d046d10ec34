"""Structured run records, and the one call that shows them as JSON lines or text (ADR 0100).

This module owns two things:

- **The run record**: one ``logging`` record per step, observation, timer job and janitor
  run. Its fields (``RUN_FIELDS``: correlation id, tenant, user, requester, workflow,
  entity, step, from, to, outcome, error code, duration, plus which ``run`` it was) ride
  as top-level attributes of the record (``extra``), so any formatter sees them: the
  JSON formatter below writes each as a key. The engine calls ``log_step`` once per call
  (after commit) and the timer queues call ``log_timer`` once per job. Both check
  ``Logger.isEnabledFor`` before building anything: with no handler enabled a record
  costs one cached level check.
- **``configure_logging``**: one handler on the ``wfnb`` logger (or another one named),
  writing JSON lines through python-json-logger's ``JsonFormatter`` or plain text lines.

The module imports nothing of the engine at run time (its types only for checking), so
every layer may call it; python-json-logger is imported only when JSON is asked for.
"""

from __future__ import annotations

import logging
import sys
from typing import IO, TYPE_CHECKING, Any, Literal

from wfnb.exceptions import UseCaseError, WfnbUsageError

if TYPE_CHECKING:
    from wfnb.engine.context import RequestContext
    from wfnb.engine.results import StepResult
    from wfnb.timers.port import TimerJob

__all__ = [
    "RUN_FIELDS",
    "TEXT_FORMAT",
    "configure_logging",
    "log_step",
    "log_timer",
]

RUN_FIELDS = (
    "run",
    "kind",
    "correlation_id",
    "tenant_id",
    "user_id",
    "requester_type",
    "workflow",
    "entity_id",
    "step",
    "from_status",
    "to_status",
    "outcome",
    "error_code",
    "duration_ms",
    "cron",
)
"""The keys every run record carries (``None`` where a value does not apply).

``run`` is ``step``, ``observation``, ``timer`` or ``janitor``; ``kind`` is the history
kind the call writes (``initiated``, ``timer``, ``observed``, ``janitor``) for engine
runs, ``timer`` for a timer job; ``cron`` names the ``wfnb.cron`` job the run belongs to
(None outside one; ADR 0103)."""

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
"""The line of ``format="text"`` (the worker's historical format)."""

_ENGINE_LOG = logging.getLogger("wfnb.engine")
_TIMER_LOG = logging.getLogger("wfnb.timers")
_RUN_OF_KIND = {"observed": "observation", "janitor": "janitor"}
_MARK = "_wfnb_configured"  # set on the handler configure_logging installs


def log_step(result: StepResult, context: RequestContext | None, kind: str) -> None:
    """The run record of one engine call (a step, an observation or a janitor run).

    Args:
        result: What the call returned (each auto-advance link has its own record).
        context: The call's request context (tenant, user, requester).
        kind: The history kind the call writes (``Call.kind``).
    """
    error = result.error
    level = logging.INFO
    if result.outcome == "failed" and isinstance(error, UseCaseError):
        level = logging.WARNING  # a use case raised: somebody's bug, not a business "no"
    if not _ENGINE_LOG.isEnabledFor(level):
        return
    fields = {
        "run": _RUN_OF_KIND.get(kind, "step"),
        "kind": kind,
        "correlation_id": result.correlation_id
        or (context.correlation_id if context is not None else None),
        "tenant_id": context.tenant_id if context is not None else None,
        "user_id": context.user_id if context is not None else None,
        "requester_type": context.requester_type if context is not None else None,
        "workflow": result.workflow,
        "entity_id": result.entity_id,
        "step": result.step,
        "from_status": result.from_status,
        "to_status": result.to_status,
        "outcome": str(result.outcome),
        "error_code": error.code if error is not None else None,
        "duration_ms": round(result.duration_ms, 3),
        "cron": context.cron if context is not None else None,
    }
    _ENGINE_LOG.log(
        level,
        "%s %s:%s %s %s%s",
        result.outcome,
        result.workflow,
        result.entity_id,
        result.step or "-",
        # a failure that did not move the entity: "at draft", never "draft->None"
        f"at {result.from_status}"
        if result.to_status is None
        or (result.outcome == "failed" and result.to_status == result.from_status)
        else f"{result.from_status}->{result.to_status}",
        f" {error.one_line()}" if error is not None else "",
        extra=fields,
    )


def log_timer(
    level: int,
    message: str,
    job: TimerJob,
    *,
    queue: str,
    duration_ms: float,
    outcome: str | None = None,
    result: object = None,
    error_code: str | None = None,
    cron: str | None = None,
) -> None:
    """The run record of one timer job, whatever ran it (the in-memory or durable queue).

    Args:
        level: ``logging.INFO`` for a job that ran, ``logging.ERROR`` for one that raised.
        message: The text line (``event=timer_ran ...``) the record shows as its message.
        job: The job run; its envelope gives the correlation id, tenant and user.
        queue: The queue's name.
        duration_ms: How long the runner took.
        outcome: A short word for what the runner returned (None when it raised).
        result: What the runner returned (a ``StepResult`` gives to-status and error code).
        error_code: The code (or exception type) of what the runner raised.
        cron: The cron context the queue ran the job in (``wfnb.cron``).
    """
    if not _TIMER_LOG.isEnabledFor(level):
        return
    envelope = job.envelope or {}
    error = getattr(result, "error", None)
    fields = {
        "run": "timer",
        "kind": "timer",
        "correlation_id": envelope.get("correlation_id"),
        "tenant_id": envelope.get("tenant_id"),
        "user_id": envelope.get("user_id"),
        "requester_type": job.requester_type,
        "workflow": job.workflow,
        "entity_id": job.entity_id,
        "step": job.step,
        "from_status": job.status,
        "to_status": getattr(result, "to_status", None),
        "outcome": outcome if outcome is not None else "raised",
        "error_code": error_code or getattr(error, "code", None),
        "duration_ms": duration_ms,
        "cron": cron,
        "queue": queue,
        "timer": job.timer_key,
        "due_at": job.due_at.isoformat(),
        "dedup_key": job.dedup_key,
    }
    _TIMER_LOG.log(level, message, extra=fields)


def configure_logging(
    format: Literal["json", "text"] = "text",  # noqa: A002  # the public name (api.md)
    level: int | str = logging.INFO,
    stream: IO[str] | Literal["stdout", "stderr"] | None = None,
    *,
    logger: str = "wfnb",
) -> logging.Handler:
    """Show wfnb's log records as JSON lines (one object per record) or text lines.

    Installs one ``StreamHandler`` on ``logger`` (the ``wfnb`` logger; ``""`` is the root
    logger, which the worker uses so procrastinate's records come out the same way) and
    sets that logger's level. Calling it again replaces the handler it installed before,
    never adds a second one. Records still propagate to the root logger's handlers.

    Args:
        format: ``"json"``: python-json-logger's ``JsonFormatter``, keys ``time``,
            ``level``, ``logger``, ``message`` and every run-record field (``RUN_FIELDS``);
            ``"text"``: ``TEXT_FORMAT``.
        level: A ``logging`` level (``logging.INFO``) or its name (``"DEBUG"``).
        stream: Where the lines go: a stream, or "stdout" / "stderr" (the default,
            "stdout"), which mean the process's stream current when each record comes.
        logger: The name of the logger to configure.

    Returns:
        The handler installed (remove it with ``logging.getLogger(logger).removeHandler``).

    Raises:
        WfnbUsageError: An unknown format or level (WF400).
    """
    if format not in ("json", "text"):
        raise WfnbUsageError(f"log format {format!r}: expected 'json' or 'text'", value=format)
    numeric = _level(level)
    handler: logging.StreamHandler[Any] = (
        _CurrentStream(stream or "stdout")
        if stream is None or isinstance(stream, str)
        else logging.StreamHandler(stream)
    )
    handler.setFormatter(_json_formatter() if format == "json" else logging.Formatter(TEXT_FORMAT))
    setattr(handler, _MARK, True)
    target = logging.getLogger(logger)
    for old in [h for h in target.handlers if getattr(h, _MARK, False)]:
        target.removeHandler(old)
    target.addHandler(handler)
    target.setLevel(numeric)
    return handler


class _CurrentStream(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to ``sys.stdout`` (or ``sys.stderr``) as it is when each record comes.

    Not the stream object current at configuration: Jupyter and test runners swap
    ``sys.stdout`` and close the old one, and a handler holding it would then fail.
    """

    def __init__(self, name: Literal["stdout", "stderr"]) -> None:
        self._which = name
        super().__init__()

    @property
    def stream(self) -> IO[str]:
        """The process's current ``sys.stdout`` / ``sys.stderr``."""
        current: IO[str] = getattr(sys, self._which)
        return current

    @stream.setter
    def stream(self, value: IO[str]) -> None:
        """Ignored: the stream is always the current one."""


def _level(level: int | str) -> int:
    if isinstance(level, int) and not isinstance(level, bool):
        return level
    numeric = logging.getLevelName(str(level).upper())
    if not isinstance(numeric, int):
        raise WfnbUsageError(f"log level {level!r}: expected DEBUG, INFO, WARNING...", value=level)
    return numeric


def _json_formatter() -> logging.Formatter:
    try:
        from pythonjsonlogger.json import JsonFormatter  # noqa: PLC0415  # only when asked
    except ImportError as exc:  # pragma: no cover - a core dependency; a broken install
        raise WfnbUsageError(
            "JSON logs need python-json-logger: pip install python-json-logger"
        ) from exc
    return JsonFormatter(
        "{levelname}{name}{message}",
        style="{",
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp="time",
    )

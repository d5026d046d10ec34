"""``dry_run``: one step (and its auto-advance chain) in a sandbox, as a before/after diff.

The step runs through the real engine against a sandbox, so the answer is what
``execute_step`` would do: the result, the entity row before and after, the history and
failure-log rows it would write, the domain events it would emit, and the timers it would
arm. ``use_cases=`` swaps named use cases for prototypes; ``step=`` may be a dict: a step
that does not exist yet, added to a copy of the workflow and validated first (with the
prototypes of ``use_cases=`` resolving). A status the source table does not accept yet can
be dry-run (the sandbox's table takes it): ``DryRun.problems`` then carries a WF112
warning with the migration the real table needs. The database refusing anything inside
the sandbox is a failed ``DryRun`` (its error, WF300, one line), never a raised error.
A table the use cases write is shadowed without being named in ``tables=``: a write the
read-only source refuses makes the dry-run shadow that table (its rows copied) and run
again from the start, and later dry-runs shadow it from the outset (ADR 0064).
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from wfnb.engine.core import WorkflowsLike
from wfnb.engine.events import TRANSITION
from wfnb.engine.results import Outcome, StepResult
from wfnb.engine.usecases import Event
from wfnb.exceptions import ConfigError, StoreError, UnknownWorkflowError
from wfnb.problems import Problem, Severity
from wfnb.sandbox import arguments, hosts
from wfnb.sandbox.core import Sandbox
from wfnb.sandbox.hosts import borrow
from wfnb.sandbox.result import DryRun, Row
from wfnb.spec import Workflow, Workflows
from wfnb.store.shadow import typed_ids
from wfnb.store.tables import HISTORY, PERMANENT_FAILURE_LOG
from wfnb.timers import VirtualClock

__all__ = ["DryRun", "dry_run"]


def _with_step(wf: Workflow, step: Mapping[str, Any], use_cases: Mapping[str, Any]) -> Workflow:
    """``wf`` plus (or with a replaced) ``step``, validated; ConfigError on any error."""
    from wfnb.validation import validate  # noqa: PLC0415  # only for prototype steps

    raw = wf.model_dump(mode="json", by_alias=True, exclude_none=True)
    steps = [s for s in raw["steps"] if s["key"] != step.get("key")]
    raw["steps"] = [*steps, copy.deepcopy(dict(step))]
    report = validate(raw, use_cases=use_cases)  # a prototype use case resolves
    errors = [p for p in report.problems if p.severity is Severity.ERROR]
    if errors or wf.name not in report.workflows:
        raise ConfigError(errors or report.problems)
    return report.workflows[wf.name]


def _after(
    box: Sandbox, wf: Workflow, entity_id: Any, result: StepResult, conn: sa.Connection
) -> tuple[Row | None, tuple[Row, ...]]:
    """The entity's row after the call and the history rows the call wrote, in one round trip.

    The same rows, in the same order, as reading the entity by its id and then
    ``_written(HISTORY)``.
    """
    entity = wf.entity
    target, log = box.shadows.shadow(entity.table), box.shadows.shadow(HISTORY.name)
    params = {
        "wfnb_key": typed_ids(target.c[entity.id_column], [entity_id])[0],
        "wfnb_wf": result.workflow,
        "wfnb_eid": result.entity_id,
        "wfnb_cid": result.correlation_id,
    }
    found = conn.execute(box.shadows.entity_and_log(entity, HISTORY.name), params).all()
    e_cols = [(f"e{i}", c.name) for i, c in enumerate(target.columns)]
    l_cols = [(f"l{i}", c.name) for i, c in enumerate(log.columns)]
    e_key = f"e{list(target.columns).index(target.c[entity.id_column])}"
    l_keys = [f"l{list(log.columns).index(c)}" for c in log.primary_key]
    after: Row | None = None
    history: list[Row] = []
    for r in found:
        m = r._mapping
        if after is None and m[e_key] is not None:
            after = {name: m[label] for label, name in e_cols}
        if all(m[k] is not None for k in l_keys):
            history.append({name: m[label] for label, name in l_cols})
    return after, tuple(history)


def _written(
    box: Sandbox, table: sa.Table, result: StepResult, conn: sa.Connection
) -> tuple[Row, ...]:
    """The rows of ``table`` this call wrote: the entity's, with the call's correlation id."""
    where = {"entity_id": result.entity_id, "correlation_id": result.correlation_id}
    return tuple(box.rows(table.name, {"workflow": result.workflow, **where}, conn))


def _failed(wf: Workflow, result: StepResult) -> bool:
    return any(r.to_status in wf.failure_statuses for r in (result, *result.chain))


def dry_run(
    db: sa.Engine | str | sa.URL,
    wfs: WorkflowsLike,
    workflow: str,
    entity_id: Any,
    requester_type: str,
    *,
    step: str | Mapping[str, Any] | None = None,
    data: Mapping[str, Any] | None = None,
    use_cases: Mapping[str, Callable[..., Any]] | None = None,
    tenant_id: str | None = None,
    tables: tuple[str, ...] = (),
    now: datetime | None = None,
) -> DryRun:
    """Run one step in a throwaway sandbox and report what it would change.

    Args:
        db: the source database (URL or engine); never written.
        wfs: the loaded workflows.
        workflow: the workflow's name.
        entity_id: the entity to run the step on.
        requester_type: who asks.
        step: a step key, or a dict: a new (or replacing) step, validated before it runs.
        data: the step's payload.
        use_cases: name → function, replacing named use cases for this run only.
        tenant_id: run as this tenant.
        tables: module tables the use cases write (copied into the sandbox whole); the
            ones not named are found and shadowed by the dry-run itself (ADR 0064).
        now: the moment the step runs at (aware; history rows and timers use it);
            default: the current time.

    Raises:
        ConfigError: a dict ``step`` makes the workflow invalid (every problem listed).
    """
    step, use_cases, tables = arguments.checked(wfs, workflow, step, use_cases, tables, tenant_id)
    workflows = dict(wfs.items()) if isinstance(wfs, Mapping) else {w.name: w for w in wfs}
    if workflow not in workflows:
        raise UnknownWorkflowError(
            f"unknown workflow {workflow!r}; loaded: {', '.join(sorted(workflows)) or 'none'}",
            workflow=workflow,
        )
    if isinstance(step, Mapping):
        workflows[workflow] = _with_step(workflows[workflow], step, use_cases or {})
        step = str(step["key"])
    wf = workflows[workflow]
    loaded = Workflows(workflows)
    for _ in range(_ROUNDS):
        with _held_logs() as held, borrow(db, loaded, tables) as box:
            unsubscribe, events = _listen(box)
            if now is not None:
                box.use_clock(VirtualClock(now))
            try:
                for name, fn in (use_cases or {}).items():
                    box.engine.use_cases.override(wf, name, fn)
                run = _run(
                    box,
                    wf,
                    entity_id,
                    requester_type,
                    step=step,
                    data=data,
                    tenant_id=tenant_id,
                    events=events,
                )
            finally:
                unsubscribe()
                for name in use_cases or {}:
                    box.engine.use_cases.override(wf, name, None)
            refused = set(box.refused)
        if not refused:
            break
        hosts.learn(db, loaded, refused)  # shadow them, then run again from the start
    for record in held:  # only the last run's run records: an earlier one did not count
        _ENGINE_LOG.handle(record)
    return run


_ENGINE_LOG = logging.getLogger("wfnb.engine")


@contextmanager
def _held_logs() -> Iterator[list[logging.LogRecord]]:
    """Hold back this thread's engine log records for the block (a run may be repeated)."""
    held: list[logging.LogRecord] = []
    me = threading.get_ident()

    def hold(record: logging.LogRecord) -> bool:
        if record.thread != me:
            return True
        held.append(record)
        return False

    _ENGINE_LOG.addFilter(hold)
    try:
        yield held
    finally:
        _ENGINE_LOG.removeFilter(hold)


_ROUNDS = 8
"""Runs of one dry-run at most: each may find one more table its use cases write."""


def _listen(box: Sandbox) -> tuple[Callable[[], None], list[Event]]:
    """The domain events the run emits (its transitions are its history rows already)."""
    events: list[Event] = []

    def keep(event: Event) -> None:
        if event.name != TRANSITION:
            events.append(event)

    return box.engine.events.subscribe("*", keep), events


def _run(
    box: Sandbox,
    wf: Workflow,
    entity_id: Any,
    requester_type: str,
    *,
    step: str | None,
    data: Mapping[str, Any] | None,
    tenant_id: str | None,
    events: list[Event],
) -> DryRun:
    before: Row | None = None
    after: Row | None = None
    history: tuple[Row, ...] = ()
    failures: tuple[Row, ...] = ()
    try:
        # the copy hands back the row it made: one round trip fewer than copy, then read
        before = box._include_row(wf.name, entity_id, tenant_id=tenant_id)
        result = box.engine.execute_step(
            wf.name, entity_id, requester_type, step=step, data=data, tenant_id=tenant_id
        )
        flush = getattr(box.engine.events, "flush", None)
        if callable(flush):
            flush()  # the in-process bus delivers on its own thread
        if before is not None or result.error is None:  # else: no such entity, no writes
            with box.read() as conn:
                after, history = _after(box, wf, entity_id, result, conn)
                failed = _failed(wf, result)
                failures = _written(box, PERMANENT_FAILURE_LOG, result, conn) if failed else ()
    except StoreError as exc:  # the database refused: a failed dry-run, one coded line
        return _store_failure(wf, entity_id, step, exc, before)
    return DryRun(
        result=result,
        before=before,
        after=after,
        history=history,
        failures=failures,
        events=tuple(events),
        timers=tuple(box.queue.pending()),
        problems=_unmigrated(box, wf, after, history),
    )


def _store_failure(
    wf: Workflow, entity_id: Any, step: str | None, exc: StoreError, before: Row | None
) -> DryRun:
    """The database refused something in the sandbox: a failed dry-run carrying the error."""
    status = before.get(wf.entity.status_column) if before else None
    result = StepResult(Outcome.FAILED, wf.name, str(entity_id), step, status, None, error=exc)
    return DryRun(result, before, before, (), (), (), ())


def _unmigrated(
    box: Sandbox, wf: Workflow, after: Row | None, history: tuple[Row, ...]
) -> tuple[Problem, ...]:
    """WF112 warnings: the dry-run wrote statuses the real table does not accept yet."""
    spec = wf.entity
    widened = box.shadows.widened.get(spec.table, {}).get(spec.status_column)
    if widened is None:
        return ()
    written = [h.get("to_status") for h in history]
    if after is not None:
        written.append(after.get(spec.status_column))
    missing = [s for s in dict.fromkeys(written) if s is not None and s not in widened.accepts]
    where = f"column {spec.status_column!r} of table {spec.table!r}"
    return tuple(
        Problem(
            "WF112",
            Severity.WARNING,
            "",
            f"/status_types/{wf.status_types.index(s)}" if s in wf.status_types else "",
            f"the dry-run used status {s!r}, which {where} does not accept yet; "
            f"migrate it first: {widened.migration}",
            wf.name,
        )
        for s in missing
    )

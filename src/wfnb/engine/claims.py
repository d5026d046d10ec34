"""Claims (a transient status held around a non-idempotent action) and their janitors.

A claimed step commits the move into the claim status (history ``claimed``) before its
action runs; the action then runs in a second transaction that moves the entity out
(``initiated``), or, when it fails or raises, a third one releases the claim back to the
step's status (``released``). A process that dies in between leaves the entity in the
claim status; ``recover`` hands claims older than ``stale_after`` to the janitor the
owning module registered, whose ``Result`` decides (``janitor``). See docs/adr/0010.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from wfnb.engine.clock import as_utc
from wfnb.engine.context import RequestContext, current, new_correlation_id, use
from wfnb.engine.results import HistoryKind, Outcome, StepResult
from wfnb.engine.runtime import Janitor, Runtime
from wfnb.engine.transitions import (
    AbortStepError,
    Call,
    Transition,
    call_use_case,
    failure_error,
    invoke,
    make_context,
    write,
)
from wfnb.engine.usecases import ResultKind
from wfnb.exceptions import ConcurrentModificationError
from wfnb.spec import Step, Workflow, add_duration
from wfnb.store import bulk

if TYPE_CHECKING:
    from wfnb.engine.pipeline import StepRun

__all__ = ["complete", "recover"]

log = logging.getLogger("wfnb.engine")


def complete(run: StepRun, claim: Transition) -> StepResult:
    """After the claim committed: run the action and move out of the claim status."""
    rt, call, step = run.rt, run.call, run.step
    assert run.row is not None
    assert step is not None
    spec = call.workflow.entity
    row = {
        **run.row,
        spec.status_column: claim.to_status,
        spec.version_column: run.row[spec.version_column] + 1,
    }
    try:
        with run.transaction(row) as conn:
            ctx = make_context(rt, conn, call, step, row)
            done = invoke(rt, call, step.action, ctx)
            if done.kind is ResultKind.REJECTED:
                out = run.rejection(ctx, done, claim.to_status)
            else:
                metadata = {**claim.metadata, **done.metadata}
                out = Transition(
                    call.kind, step.key, claim.to_status, step.successful_state, metadata
                )
            run.version = write(rt, conn, call, row, out)
    except AbortStepError as abort:
        return _release(run, row, step, abort)
    run.events.extend(ctx.events)
    return run.finish(run.committed(out), entered=out.to_status)


def _release(run: StepRun, row: Mapping[str, Any], step: Step, abort: AbortStepError) -> StepResult:
    """The action did not go through: give the claim back (or fail permanently)."""
    if isinstance(abort.error, ConcurrentModificationError):
        return run.finish(run.result(Outcome.FAILED, error=abort.error), None)  # moved on
    if abort.permanent and run.call.workflow.failure_statuses:
        return run.fail_permanently(abort, row)
    claim_status = str(row[run.call.workflow.entity.status_column])
    code = abort.error.code if abort.error is not None else None
    metadata = {**abort.metadata, "error_code": code} if code else dict(abort.metadata)
    back = Transition(HistoryKind.RELEASED, step.key, claim_status, step.status, metadata)
    try:
        with run.transaction(row) as conn:
            run.version = write(run.rt, conn, run.call, row, back)
    except AbortStepError as again:
        return run.finish(run.result(Outcome.FAILED, error=again.error), None)
    if abort.error is None:  # rejected, no rejection path: the claim goes back
        return run.finish(
            run.result(Outcome.REJECTED, to_status=step.status, metadata=metadata), None
        )
    return run.finish(run.result(Outcome.FAILED, error=abort.error, to_status=step.status), None)


def recover(
    rt: Runtime, workflows: Mapping[str, Workflow], tenant_id: str | None
) -> list[StepResult]:
    """Hand every stale claim to its owning module's janitor; one result per claim handled."""
    now = rt.clock.now()
    results: list[StepResult] = []
    for wf in workflows.values():
        if not wf.claim_statuses:
            continue
        with rt.store.transaction(tenant_id, readonly=True) as conn:
            table = rt.store.entity_table(wf.entity)
            rows = bulk.select_entities_at(conn, table, wf.entity, wf.claim_statuses, tenant_id)
            ids = [str(r[wf.entity.id_column]) for r in rows]
            claimed = bulk.select_claims(conn, wf.name, ids)
        for row in rows:
            claim_row = claimed.get(str(row[wf.entity.id_column]))
            step = _claiming_step(wf, claim_row)
            if claim_row is None or step is None or step.claim is None:
                log.warning("%s: entity in a claim status without its claimed row", wf.name)
                continue
            if add_duration(as_utc(claim_row["changed_at"]), step.claim.stale_after) > now:
                continue  # not stale yet: its action may still be running
            janitor = rt.janitors.get(wf.owning_module)
            if janitor is None:
                log.warning("%s: stale claim but no janitor for %r", wf.name, wf.owning_module)
                continue
            config = wf.for_tenant(claim_row["tenant_id"])  # its tenant's (overlay) config
            results.append(
                _run_janitor(rt, config, step=step, row=row, claim_row=claim_row, janitor=janitor)
            )
    return results


def _claiming_step(wf: Workflow, claim_row: Mapping[str, Any] | None) -> Step | None:
    if claim_row is None or claim_row["step_key"] is None:
        return None
    step = wf.step(claim_row["step_key"])
    return step.for_requester(claim_row["requester_type"] or "") if step else None


def _run_janitor(
    rt: Runtime,
    wf: Workflow,
    *,
    step: Step,
    row: Mapping[str, Any],
    claim_row: Mapping[str, Any],
    janitor: Janitor,
) -> StepResult:
    """One stale claim: the janitor's result moves the entity on (ok) or back (else)."""
    from wfnb.engine.pipeline import StepRun  # noqa: PLC0415  # the pipeline imports us

    outer = current()  # the recovery pass's cron context, when it runs in one (ADR 0103)
    cron = outer.cron if outer is not None else None
    context = RequestContext(
        correlation_id=claim_row["correlation_id"] or new_correlation_id(),
        tenant_id=claim_row["tenant_id"],
        user_id=claim_row["user_id"],
        requester_type=claim_row["requester_type"],
        cron=cron,
    )
    audit = {"cron": cron} if cron is not None else {}
    call = Call(wf, context, step_key=step.key, kind=HistoryKind.JANITOR, audit=audit)
    run = StepRun(rt, call, row[wf.entity.id_column])
    run.row, run.step = dict(row), step
    claim_status = run.status
    label = f"janitor of {wf.owning_module}"
    with use(context):
        try:
            with run.transaction(row) as conn:
                ctx = make_context(rt, conn, call, step, row)
                verdict = call_use_case(janitor, ctx, label)
                to = step.successful_state if verdict.is_ok else step.status
                metadata = {"janitor": verdict.kind.value, **verdict.metadata}
                if verdict.reason:
                    metadata["reason"] = verdict.reason
                moved = Transition(HistoryKind.JANITOR, step.key, claim_status, to, metadata)
                run.version = write(rt, conn, call, row, moved)
        except AbortStepError as abort:
            return run.finish(run.result(Outcome.FAILED, error=abort.error), None)
        run.events.extend(ctx.events)
        if verdict.is_ok:
            return run.finish(run.result(Outcome.TRANSITIONED, to_status=to, metadata=metadata), to)
        if verdict.kind is ResultKind.FAILED:
            error = failure_error(verdict, label)
            return run.finish(
                run.result(Outcome.FAILED, error=error, to_status=to, metadata=metadata), None
            )
        return run.finish(run.result(Outcome.REJECTED, to_status=to, metadata=metadata), None)

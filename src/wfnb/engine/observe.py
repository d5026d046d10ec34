"""Observed transitions: record what happened outside (a hub, a bank) as kind ``observed``.

No validation or action runs. The transition must be declared in the workflow's
``observed_transitions`` from the entity's current status, with that source, and must not
leave a claim status (only the engine and the owning module's janitor do): else WF207.

Then the workflow proceeds exactly as after a step (ADR 0017): the entered status's timers
are armed, and where exactly one step applies at it for the ``system`` requester and that
step is marked ``auto_advance``, it runs in the same call (and its own chain follows).
The observation's history row keeps no requester type; what follows it runs as ``system``,
which needs no cron context even where ``system`` is a system requester type (ADR 0103).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from wfnb.engine.context import use
from wfnb.engine.effects import OBSERVER
from wfnb.engine.pipeline import StepRun, run_step
from wfnb.engine.results import HistoryKind, Outcome, StepResult
from wfnb.engine.runtime import Runtime
from wfnb.engine.transitions import (
    AbortStepError,
    Call,
    Transition,
    check_call,
    load,
    tenant_config,
    write,
)
from wfnb.exceptions import UndeclaredObservationError
from wfnb.spec import Step, Workflow

__all__ = ["OBSERVER", "following_step", "run_observe"]


def _refuse(wf: Workflow, from_status: str, to_status: str, source: str, why: str) -> None:
    raise AbortStepError(
        UndeclaredObservationError(
            f"{wf.name}: {why}",
            workflow=wf.name,
            from_status=from_status,
            to_status=to_status,
            source=source,
        )
    )


def _check_declared(wf: Workflow, from_status: str, to_status: str, source: str) -> None:
    """WF207 unless ``from_status -> to_status`` by ``source`` is declared and may be observed."""
    if from_status in wf.claim_statuses:
        _refuse(
            wf, from_status, to_status, source,
            f"{from_status!r} is a claim status: only the engine and the owning module's "
            f"janitor move an entity out of it, not an observation (source {source!r})",
        )  # fmt: skip
    if any(
        o.from_ == from_status and o.to == to_status and o.source == source
        for o in wf.observed_transitions
    ):
        return
    _refuse(
        wf, from_status, to_status, source,
        f"no observed transition {from_status!r} -> {to_status!r} from source {source!r}",
    )  # fmt: skip


def following_step(wf: Workflow, status: str) -> Step | None:
    """The step an observation into ``status`` auto-advances to, if any.

    The one step that applies at ``status`` for ``OBSERVER``, when it is marked
    ``auto_advance``; None when none or several apply, or the one that does is not.
    """
    if OBSERVER not in wf.requester_types:
        return None
    steps = wf.steps_for(status, OBSERVER)
    if len(steps) != 1 or not steps[0].auto_advance:
        return None
    return steps[0]


def run_observe(rt: Runtime, call: Call, entity_id: Any, to_status: str, source: str) -> StepResult:
    """Record an outside transition of one entity; its effects fire after commit.

    Then the workflow proceeds (timers armed, one auto-advancing step run: module doc).
    """
    wf = call.workflow
    run = StepRun(rt, call, entity_id)
    with use(call.context):
        try:
            call = run.call = check_call(call, rt.max_payload_bytes)
            data = call.data or {}
            with rt.store.transaction(call.context.tenant_id, context=call.settings) as conn:
                run.row = load(rt, conn, call, entity_id)
                call = run.call = tenant_config(call, run.row)  # the entity's tenant's config
                _check_declared(wf, run.status, to_status, source)
                observed = Transition(
                    HistoryKind.OBSERVED, None, run.status, to_status, data, source
                )
                run.version = write(rt, conn, call, run.row, observed)
        except AbortStepError as abort:
            return run.aborted(abort, None)
        result = run.finish(run.committed(observed), entered=to_status)
        if call.context.requester_type is None:  # what follows runs as the observer
            call = replace(call, context=replace(call.context, requester_type=OBSERVER))
        return _proceed(rt, call, entity_id, result)


def _proceed(rt: Runtime, call: Call, entity_id: Any, result: StepResult) -> StepResult:
    """Run the auto-advancing step at the entered status, if one applies (its chain follows)."""
    if result.outcome is not Outcome.OBSERVED or result.to_status is None:
        return result
    step = following_step(call.workflow, result.to_status)
    if step is None:
        return result
    # The engine runs it, not a caller: no cron context needed for a system requester type.
    link = replace(call, step_key=step.key, kind=HistoryKind.INITIATED, expect=None, internal=True)
    first = run_step(rt, link, entity_id)
    return replace(result, chain=(replace(first, chain=()), *first.chain))

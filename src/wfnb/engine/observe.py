"""Observed transitions: record what happened outside (a hub, a bank) as kind ``observed``.

No validation or action runs. The transition must be declared in the workflow's
``observed_transitions`` from the entity's current status, with that source (else WF207).
"""

from __future__ import annotations

from typing import Any

from wfnb.engine.context import use
from wfnb.engine.pipeline import StepRun
from wfnb.engine.results import HistoryKind, StepResult
from wfnb.engine.runtime import Runtime
from wfnb.engine.transitions import AbortStepError, Call, Transition, check_call, load, write
from wfnb.exceptions import UndeclaredObservationError
from wfnb.spec import Workflow

__all__ = ["run_observe"]


def _check_declared(wf: Workflow, from_status: str, to_status: str, source: str) -> None:
    """WF207 unless ``from_status -> to_status`` by ``source`` is in ``observed_transitions``."""
    if any(
        o.from_ == from_status and o.to == to_status and o.source == source
        for o in wf.observed_transitions
    ):
        return
    raise AbortStepError(
        UndeclaredObservationError(
            f"{wf.name}: no observed transition {from_status!r} -> {to_status!r} "
            f"from source {source!r}",
            workflow=wf.name,
            from_status=from_status,
            to_status=to_status,
            source=source,
        )
    )


def run_observe(rt: Runtime, call: Call, entity_id: Any, to_status: str, source: str) -> StepResult:
    """Record an outside transition of one entity; its effects fire after commit."""
    wf = call.workflow
    run = StepRun(rt, call, entity_id)
    with use(call.context):
        try:
            call = run.call = check_call(call, rt.max_payload_bytes)
            data = call.data or {}
            with rt.store.transaction(call.context.tenant_id) as conn:
                run.row = load(rt, conn, call, entity_id)
                _check_declared(wf, run.status, to_status, source)
                observed = Transition(
                    HistoryKind.OBSERVED, None, run.status, to_status, data, source
                )
                run.version = write(rt, conn, call, run.row, observed)
        except AbortStepError as abort:
            return run.aborted(abort, None)
        return run.finish(run.committed(observed), entered=to_status)

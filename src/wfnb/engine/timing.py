"""Timers around the pipeline: an entity's creation, and re-arming after a crash.

Arming after a transition lives in ``effects``. Two more moments need it: an entity
created by its owning module at the initial status (``Engine.created``: a history row with
no ``from_status``, and the initial status's timers), and recovery (``Engine.recover``):
a crash between commit and arming leaves an entity at a timed status with no job, so a
periodic pass re-arms the timers of every entity still sitting where its last entry put it.
Arming is deduplicated by (workflow, entity, timer, version at entry), so a pass that finds
nothing missing arms nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from wfnb.engine import inputs
from wfnb.engine.clock import as_utc
from wfnb.engine.context import RequestContext
from wfnb.engine.effects import publish_transitions
from wfnb.engine.results import HistoryKind, Outcome, StepResult
from wfnb.engine.runtime import Runtime
from wfnb.engine.transitions import Call, Transition, history_row, noted, tenant_config
from wfnb.exceptions import EntityNotFoundError, NoStepAppliesError, StepError
from wfnb.spec import Workflow
from wfnb.store import bulk, queries
from wfnb.timers.arming import arm_timers
from wfnb.timers.port import TimerJob

__all__ = ["created", "rearm"]


def created(rt: Runtime, call: Call, entity_id: str) -> StepResult:
    """Record that an entity exists at its initial status, and arm that status's timers.

    Returns WF201 when the entity does not exist and WF202 when it is not at the initial
    status (it has already moved: nothing to record). A creation already recorded is a
    no-op that says so: ``rejected`` with ``metadata["already_recorded"]``, no second
    history row (the entity row is locked while deciding, so two concurrent calls take
    turns); its timers are armed again if missing (arming is deduplicated).
    """
    wf = call.workflow
    spec = wf.entity
    try:  # over-long ids, an id the table cannot hold: WF208 / WF201, nothing written
        key = inputs.check_request(
            call.context, rt.store.entity_table(spec), spec.id_column, entity_id
        )
    except StepError as exc:
        return _result(call, entity_id, Outcome.FAILED, None, exc)
    with rt.store.transaction(call.context.tenant_id, context=call.settings) as conn:
        table = rt.store.entity_table(spec)
        row = queries.select_entity_for_update(conn, table, spec, key, call.context.tenant_id)
        if row is None:
            missing = EntityNotFoundError(
                f"{wf.name}: no entity {entity_id!r}", entity_id=entity_id
            )
            return _result(call, entity_id, Outcome.FAILED, row, missing)
        call = tenant_config(call, row)  # a call without a tenant: the entity's tenant's config
        wf = call.workflow
        recorded = queries.select_creation(conn, wf.name, entity_id)
        if recorded is None and row[spec.status_column] != wf.initial_status:
            error = NoStepAppliesError(
                f"{wf.name}: entity {entity_id!r} is at {row[spec.status_column]!r}, "
                f"not the initial status {wf.initial_status!r}",
                entity_id=entity_id,
            )
            return _result(call, entity_id, Outcome.FAILED, row, error)
        version = int(row[spec.version_column])
        now = rt.clock.now()
        if recorded is None:
            tenant = row.get(spec.tenant_column) if spec.tenant_column else call.context.tenant_id
            entry = Transition(
                HistoryKind.INITIATED, None, "", wf.initial_status, {"created": True}
            )
            record = history_row(call, entity_id, tenant, entry, now, version)
            first = [{**record, "from_status": None}]  # no origin
            noted(rt, first, queries.insert_history(conn, first))
    if recorded is not None:  # arming talks to the queue: after the row lock is released
        return _already_recorded(rt, call, entity_id, row, recorded)
    result = _result(call, entity_id, Outcome.TRANSITIONED, row, None)
    publish_transitions(rt, result)
    if rt.queue is not None:
        arm_timers(
            rt.queue, wf, entity_id, wf.initial_status, version, now, call.context.to_envelope()
        )
    return result


def _already_recorded(
    rt: Runtime,
    call: Call,
    entity_id: str,
    row: Mapping[str, Any],
    recorded: Mapping[str, Any],
) -> StepResult:
    """A second ``created``: nothing written; the initial timers re-armed if still due."""
    wf = call.workflow
    spec = wf.entity
    version = int(row[spec.version_column])
    entered = recorded["entity_version"]
    still_there = row[spec.status_column] == wf.initial_status and (
        entered is None or int(entered) == version
    )
    if still_there and rt.queue is not None:
        envelope = call.context.to_envelope()
        at = as_utc(recorded["changed_at"])
        arm_timers(rt.queue, wf, entity_id, wf.initial_status, version, at, envelope)
    return StepResult(
        outcome=Outcome.REJECTED,
        workflow=wf.name,
        entity_id=entity_id,
        step=None,
        from_status=str(row[spec.status_column]),  # where it is; nothing moved
        to_status=None,
        metadata={"reason": "already recorded", "already_recorded": True},
        duration_ms=call.elapsed_ms(),
        correlation_id=call.context.correlation_id,
    )


def _result(
    call: Call, entity_id: str, outcome: Outcome, row: Mapping[str, Any] | None, error: Any
) -> StepResult:
    status = row[call.workflow.entity.status_column] if row is not None else None
    return StepResult(
        outcome=outcome,
        workflow=call.workflow.name,
        entity_id=entity_id,
        step=None,
        from_status=None,
        to_status=status if error is None else None,
        error=error,
        metadata={},
        duration_ms=call.elapsed_ms(),
        correlation_id=call.context.correlation_id,
    )


def rearm(rt: Runtime, workflows: Mapping[str, Workflow], tenant_id: str | None) -> list[TimerJob]:
    """Arm the timers of every entity still sitting at the timed status it last entered.

    One history query and one entity query per workflow with timers; the queue's dedup key
    makes a pass over already-armed entities arm nothing.
    """
    if rt.queue is None:
        return []
    armed: list[TimerJob] = []
    for wf in workflows.values():
        timed = sorted({t.status for t in wf.timers})
        if not timed:
            continue
        spec = wf.entity
        with rt.store.transaction(tenant_id, readonly=True) as conn:
            entries = queries.select_timer_entries(conn, wf.name, timed)
            table = rt.store.entity_table(spec)
            ids = [e["entity_id"] for e in entries]
            rows = bulk.select_entities(conn, table, spec, ids, tenant_id)
        current = {str(r[spec.id_column]): r for r in rows}
        for entry in entries:
            row = current.get(entry["entity_id"])
            if row is None or row[spec.status_column] != entry["to_status"]:
                continue  # moved on outside the engine: conformance reports that, not us
            version = entry["entity_version"]
            envelope = RequestContext(
                correlation_id=entry["correlation_id"] or f"recovery-{uuid.uuid4()}",
                tenant_id=entry["tenant_id"],
                user_id=entry["user_id"],
                requester_type=entry["requester_type"] or "system",
            ).to_envelope()
            armed += arm_timers(
                rt.queue,
                wf.for_tenant(entry["tenant_id"]),  # its tenant's durations (overlay)
                entry["entity_id"],
                entry["to_status"],
                int(version if version is not None else row[spec.version_column]),
                as_utc(entry["changed_at"]),
                envelope,
            )
    return armed

"""After-commit effects: transition and domain events, timers armed, hooks, one run record.

All best-effort: an effect that fails is logged and never changes the result of a step
that has already committed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from wfnb.engine.events import transition_event
from wfnb.engine.results import StepResult
from wfnb.engine.runtime import Runtime
from wfnb.engine.transitions import Call
from wfnb.engine.usecases import Event
from wfnb.logs import log_step
from wfnb.timers.arming import arm_timers

__all__ = ["OBSERVER", "Entered", "after_commit", "publish_transitions"]

log = logging.getLogger("wfnb.engine")
Emitted = Sequence[tuple[str, dict[str, Any]]]
OBSERVER = "system"
"""The requester type of what follows an observation, which has none: its timers' envelope
and its auto-advance (``wfnb.engine.observe``)."""
Entered = tuple[str, int] | None
"""The (status, version) a committed transition left the entity at."""


def after_commit(
    rt: Runtime, call: Call, result: StepResult, events: Emitted, entered: Entered
) -> None:
    """Run every effect of ``result``; never raises.

    Args:
        rt: the engine's collaborators.
        call: the call whose context travels with events and timers.
        result: what the call returned (hooks and the log line get it).
        events: the domain events the committed use cases emitted, in order.
        entered: ``(status, version)`` the entity entered (its timers are armed), or None.
    """
    publish_transitions(rt, result)
    envelope = call.context.to_envelope() if events else None
    for name, payload in events:
        _guard("event", result, rt.events.publish, _event(result, name, payload, envelope))
    if (
        entered is not None
        and entered[0] != result.from_status  # a self-loop stays: it neither arms nor disarms
        and call.workflow.timers_at(entered[0])
    ):
        _guard("timers", result, _arm_timers, rt, call, result, entered)
    for hook in list(rt.hooks):
        _guard("hook", result, hook, result)
    log_step(result, call.context, call.kind.value)  # the run record (ADR 0100)


def publish_transitions(rt: Runtime, result: StepResult) -> None:
    """Publish a ``transition`` event per history row committed since the last call.

    The rows are those this thread's committed transactions wrote, in commit order; a
    failure is logged, never raised.
    """
    for row in rt.store.take_committed():
        _guard("event", result, _publish_transition, rt, row)


def _publish_transition(rt: Runtime, row: Any) -> None:
    event = transition_event(row)
    if not event.envelope.get("correlation_id"):
        return  # a row no engine call wrote carries no context to publish under
    rt.events.publish(event)


def _event(result: StepResult, name: str, payload: dict[str, Any], envelope: Any) -> Event:
    return Event(name, payload, result.workflow, result.entity_id, envelope)


def _arm_timers(rt: Runtime, call: Call, result: StepResult, entered: tuple[str, int]) -> None:
    wf = call.workflow
    if rt.queue is None:
        with rt.lock:
            first = wf.name not in rt.warned_no_queue
            rt.warned_no_queue.add(wf.name)
        if first:
            log.warning(
                "workflow %r declares timers but the engine has no job queue: not armed",
                wf.name,
                extra={"wfnb": {"workflow": wf.name, "status": entered[0]}},
            )
        return
    status, version = entered
    envelope = call.context.to_envelope()
    if envelope["requester_type"] is None:  # an observation: what follows runs as the observer
        envelope["requester_type"] = OBSERVER
    arm_timers(rt.queue, wf, result.entity_id, status, version, rt.clock.now(), envelope)


def _guard(what: str, result: StepResult, fn: Any, *args: Any) -> None:
    try:
        fn(*args)
    except Exception:  # after commit, an effect can only be logged
        log.exception(
            "after-commit %s failed for %s:%s",
            what,
            result.workflow,
            result.entity_id,
            extra={"wfnb": {"effect": what, **_fields(result)}},
        )


def _fields(result: StepResult) -> dict[str, Any]:
    return {
        "workflow": result.workflow,
        "entity_id": result.entity_id,
        "step": result.step,
        "outcome": result.outcome.value,
        "from_status": result.from_status,
        "to_status": result.to_status,
        "code": result.error.code if result.error is not None else None,
        "correlation_id": result.correlation_id,
        "duration_ms": round(result.duration_ms, 3),
        "chain": len(result.chain),
    }

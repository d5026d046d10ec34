"""The input of ``execute_batch``, checked before the batch runs: the id list and the context.

Ids come back one result each, in input order (first occurrences; an id given twice runs
once). An id that is not text or an integer, or is too long, is WF208 and one no entity
of the table can have is WF201, for that entity alone; the others run. A request context
whose ids do not fit the history is WF208 for every entity, and a system requester type
outside a cron context (``wfnb.engine.cron``) WF209 for every entity. A string (or anything that is
not a list of ids) given as the id list is one WF208 result: it is never taken apart into
characters. Nothing is read or written for a refused id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from wfnb.engine import inputs
from wfnb.engine.cron import check_system_requester
from wfnb.engine.effects import after_commit
from wfnb.engine.results import Outcome, StepResult
from wfnb.engine.runtime import Runtime
from wfnb.engine.transitions import Call
from wfnb.exceptions import (
    ContextMissingError,
    EntityNotFoundError,
    InvalidPayloadError,
    StepError,
)

__all__ = ["checked_batch"]

RunBatch = Callable[[list[Any]], list[StepResult]]
"""Runs the batch over ids already checked (text or ints, unique); results in their order."""


def checked_batch(rt: Runtime, call: Call, entity_ids: Any, run: RunBatch) -> list[StepResult]:
    """Check ``call`` and ``entity_ids``, run the good ids, and merge every result in order."""
    if isinstance(entity_ids, str | bytes | Mapping) or not isinstance(entity_ids, Iterable):
        error = InvalidPayloadError(
            f"entity_ids must be a list of ids, not {type(entity_ids).__name__}",
            field="entity_ids",
        )
        return [_refused(rt, call, _label(entity_ids), error)]
    given = list(entity_ids)
    try:
        if not call.internal:
            check_system_requester(call.workflow, call.context)  # WF209 outside a cron
        inputs.check_context(call.context)
    except (InvalidPayloadError, ContextMissingError) as exc:
        return [_refused(rt, call, label, exc) for label in _unique(map(_label, given))]
    table = rt.store.entity_table(call.workflow.entity)
    order: dict[str, StepError | None] = {}
    keys: list[Any] = []
    for entity_id in given:
        label = _label(entity_id)
        if label in order:
            continue
        try:
            key = inputs.entity_key(table, call.workflow.entity.id_column, entity_id)
        except (InvalidPayloadError, EntityNotFoundError) as exc:
            order[label] = exc
            continue
        label = str(key)
        if label not in order:
            order[label] = None
            keys.append(key)
    ran = {r.entity_id: r for r in run(keys)} if keys or not order else {}
    return [
        ran[label] if error is None else _refused(rt, call, label, error)
        for label, error in order.items()
    ]


def _label(entity_id: Any) -> str:
    """How an id reads in its result (``str``; never raises for a hostile ``__str__``)."""
    try:
        return str(entity_id)
    except Exception:  # noqa: BLE001  # a label only
        return f"<{type(entity_id).__name__}>"


def _unique(labels: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(labels))


def _refused(rt: Runtime, call: Call, label: str, error: StepError) -> StepResult:
    """The failed result of an id refused before the batch ran (its effects: log, hooks)."""
    result = StepResult(
        outcome=Outcome.FAILED,
        workflow=call.workflow.name,
        entity_id=label,
        step=call.step_key,
        from_status=None,
        to_status=None,
        error=error,
        duration_ms=call.elapsed_ms(),
        correlation_id=call.context.correlation_id
        if isinstance(call.context.correlation_id, str)
        else None,
    )
    after_commit(rt, call, result, (), None)
    return result

"""Per-entity state of a batch and the use-case stage that runs over many entities.

A batch-aware use case (``@batch``) is called once with every context of the stage and a
savepoint around the call; any other use case is called per entity, each call in its
own savepoint, so a failing or raising call discards exactly that entity's writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from wfnb.engine.results import Outcome
from wfnb.engine.runtime import Runtime
from wfnb.engine.transitions import (
    AbortStepError,
    Call,
    Transition,
    as_result,
    call_use_case,
    check_events,
    failure_error,
    use_case_error,
)
from wfnb.engine.usecases import Result, ResultKind, StepContext, is_batch
from wfnb.exceptions import StepError, UseCaseError
from wfnb.spec import Step

__all__ = ["Item", "run_stage"]


@dataclass
class Item:
    """One entity of a batch, through the phases.

    ``plan`` is where the entity is heading (and, once final, what its history row
    records); ``swapped`` is what this phase's bulk compare-and-swap wrote, so the
    fix-ups know how to re-point or undo it.
    """

    key: str
    row: dict[str, Any] | None = None
    step: Step | None = None
    ctx: StepContext | None = None
    plan: Transition | None = None
    swapped: Transition | None = None
    verdict: Result | None = None
    error: StepError | None = None
    permanent: bool = False
    outcome: Outcome | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    from_status: str | None = None

    @property
    def live(self) -> bool:
        """Still heading for a transition (no error, no final outcome yet)."""
        return self.error is None and self.outcome is None

    def fail(self, error: StepError | None, *, permanent: bool = False) -> None:
        """Record a failure; whatever the entity's use cases emitted is dropped."""
        self.error, self.permanent = error, permanent
        if self.ctx is not None:
            self.ctx.events = []  # a new list: the use case may have replaced it with junk


def run_stage(
    rt: Runtime, conn: sa.Connection, call: Call, name: str | None, items: Sequence[Item]
) -> None:
    """Run use case ``name`` over ``items``; each gets ``verdict`` or ``error``.

    ``None`` is an implicit ok. A ``Result.fail`` or an exception fails the entity (WF205 /
    WF206); a ``reject`` leaves the verdict for the caller's rejection path.
    """
    if not items:
        return
    if name is None:
        for it in items:
            it.verdict = Result.ok()
        return
    try:
        fn = rt.registry.resolve(call.workflow, name)
    except (ImportError, AttributeError, TypeError) as exc:
        error = UseCaseError(f"use case {name!r} does not resolve: {exc}", use_case=name)
        error.__cause__ = exc
        for it in items:
            it.fail(error)
        return
    if is_batch(fn):
        _run_batch_call(conn, fn, name, items)
    else:
        for it in items:
            _run_single(conn, fn, name, it)


def _accept(it: Item, result: Result, name: str) -> bool:
    if result.kind is ResultKind.FAILED:
        it.fail(failure_error(result, name), permanent=result.permanent)
        return False
    it.verdict = result
    return True


def _run_single(conn: sa.Connection, fn: Any, name: str, it: Item) -> None:
    savepoint = conn.begin_nested()
    try:
        result = call_use_case(fn, it.ctx, name)
    except AbortStepError as abort:
        savepoint.rollback()
        it.fail(abort.error)
        return
    if _accept(it, result, name):
        savepoint.commit()
    else:
        savepoint.rollback()


def _results(out: Any, size: int) -> list[Result]:
    """A batch use case's return value as exactly ``size`` checked results."""
    results = [as_result(r) for r in (out or [])]
    if len(results) != size:
        raise TypeError(f"returned {len(results)} results for {size} entities")
    return results


def _run_batch_call(conn: sa.Connection, fn: Any, name: str, items: Sequence[Item]) -> None:
    savepoint = conn.begin_nested()
    try:
        results = _results(fn([it.ctx for it in items]), len(items))
        for it in items:
            check_events(it.ctx)
    except Exception as exc:  # noqa: BLE001  # a use case's bug becomes WF206 for its entities
        savepoint.rollback()
        abort = use_case_error(name, exc)
        for it in items:
            it.fail(abort.error)
        return
    savepoint.commit()
    for it, result in zip(items, results, strict=True):
        _accept(it, result, name)

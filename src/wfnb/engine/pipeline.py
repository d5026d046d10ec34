"""The step pipeline for one entity, as one straight line.

select (pure) → validation → action, in the transaction → CAS + history row → commit →
after-commit effects; then auto-advance, each link in its own transaction. A claimed
step commits its claim before the action and continues in ``wfnb.engine.claims``.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import Any

import sqlalchemy as sa

from wfnb.engine import claims
from wfnb.engine.context import use
from wfnb.engine.effects import after_commit
from wfnb.engine.results import HistoryKind, Outcome, StepResult
from wfnb.engine.runtime import Runtime
from wfnb.engine.selection import applicable, select_step
from wfnb.engine.transitions import (
    AbortStepError,
    Call,
    Transition,
    check_call,
    entity_tenant,
    failure_code,
    invoke,
    load,
    make_context,
    tenant_config,
    write,
)
from wfnb.engine.usecases import Result, ResultKind, StepContext
from wfnb.exceptions import NoStepAppliesError, StepError, UseCaseFailedError
from wfnb.spec import Step
from wfnb.store import queries

__all__ = ["MAX_CHAIN", "StepRun", "run_step"]

MAX_CHAIN = 64
"""Auto-advance links at most (the validator already rejects endless chains: WF107)."""

_OUTCOME = {HistoryKind.REJECTED: Outcome.REJECTED, HistoryKind.OBSERVED: Outcome.OBSERVED}


def run_step(rt: Runtime, call: Call, entity_id: Any) -> StepResult:
    """Run one step on one entity, then the auto-advance chain."""
    with use(call.context):
        run = StepRun(rt, call, entity_id)
        first = result = run.run()
        links: list[StepResult] = []
        while _advances(run, result) and len(links) < MAX_CHAIN:
            wf = run.call.workflow  # the config the entity's tenant runs
            following = applicable(wf, result.to_status or "", call.requester_type)
            if len(following) != 1:
                break  # none or several apply: the chain stops here
            key = following[0].key
            link = replace(call, workflow=wf, step_key=key, kind=HistoryKind.INITIATED, expect=None)
            run = StepRun(rt, link, entity_id)
            result = run.run()
            links.append(result)
        return replace(first, chain=tuple(links)) if links else first


def _advances(run: StepRun, result: StepResult) -> bool:
    return result.outcome is Outcome.TRANSITIONED and bool(run.step and run.step.auto_advance)


class StepRun:
    """One step on one entity: the state the pipeline's stages share."""

    def __init__(self, rt: Runtime, call: Call, entity_id: Any) -> None:
        self.rt, self.call, self.entity_id = rt, call, entity_id
        self.row: dict[str, Any] | None = None
        self.step: Step | None = None
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.version = 0  # the entity's version after the last committed write

    def run(self) -> StepResult:
        """The pipeline: everything up to the commit, then the effects."""
        try:
            self.call = check_call(self.call, self.rt.max_payload_bytes)  # WF208 aborts
            with self.rt.store.transaction(
                self.call.context.tenant_id, context=self.call.settings
            ) as conn:
                self.row = load(self.rt, conn, self.call, self.entity_id)
                self.call = tenant_config(self.call, self.row)  # the entity's tenant's config
                self.check_expected(conn)
                self.step = self.select()
                ctx = make_context(self.rt, conn, self.call, self.step, self.row)
                transition = self.decide(ctx)
                self.version = write(self.rt, conn, self.call, self.row, transition)
        except AbortStepError as abort:
            return self.aborted(abort, self.row)
        self.events.extend(ctx.events)
        if transition.kind is HistoryKind.CLAIMED:
            return claims.complete(self, transition)
        return self.finish(self.committed(transition), entered=transition.to_status)

    @property
    def status(self) -> str:
        """The entity's status as read."""
        assert self.row is not None
        return str(self.row[self.call.workflow.entity.status_column])

    def check_expected(self, conn: sa.Connection) -> None:
        """A timer's job runs only while the entity sits where the timer was armed (WF202)."""
        expect, spec = self.call.expect, self.call.workflow.entity
        assert self.row is not None
        if expect is None:
            return
        self.check_declared_timer(expect[0])
        status, version = expect
        current = int(self.row[spec.version_column])
        moved_on = (
            self.status != status
            or current < version
            or (
                current != version
                and queries.left_status_since(
                    conn, self.call.workflow.name, str(self.entity_id), status, version
                )
            )
        )
        if moved_on:
            raise AbortStepError(
                NoStepAppliesError(
                    f"{self.call.workflow.name}: timer no longer applies: the entity moved on "
                    f"from {expect[0]!r} (version {expect[1]})",
                    step=self.call.step_key,
                )
            )

    def check_declared_timer(self, status: str) -> None:
        """A timer job must match a timer the (tenant's) workflow declares (WF202)."""
        call = self.call
        if call.timer_key is None:
            return
        job = (call.timer_key, call.step_key, call.requester_type, status)
        declared = {(t.key, t.step, t.requester_type, t.status) for t in call.workflow.timers}
        if job not in declared:
            raise AbortStepError(
                NoStepAppliesError(
                    f"{call.workflow.name}: no declared timer {call.timer_key!r} runs step "
                    f"{call.step_key!r} as {call.requester_type!r} at {status!r}; "
                    f"declared timers: {sorted(t.key for t in call.workflow.timers) or 'none'}",
                    step=call.step_key,
                )
            )

    def select(self) -> Step:
        """The step to run (WF202/WF203 abort the call)."""
        try:
            return select_step(
                self.call.workflow, self.status, self.call.requester_type, self.call.step_key
            )
        except StepError as exc:
            raise AbortStepError(exc) from None

    def decide(self, ctx: StepContext) -> Transition:
        """Validation, then the claim or the action: the transition to write."""
        step = self.step
        assert step is not None
        verdict = invoke(self.rt, self.call, step.validation, ctx)
        if verdict.kind is ResultKind.REJECTED:
            return self.rejection(ctx, verdict, self.status)
        if step.claim is not None:
            claim = step.claim.status
            return Transition(HistoryKind.CLAIMED, step.key, self.status, claim, verdict.metadata)
        done = invoke(self.rt, self.call, step.action, ctx)
        if done.kind is ResultKind.REJECTED:
            return self.rejection(ctx, done, self.status)
        metadata = {**verdict.metadata, **done.metadata}
        return Transition(self.call.kind, step.key, self.status, step.successful_state, metadata)

    def rejection(self, ctx: StepContext, verdict: Result, from_status: str) -> Transition:
        """The rejection path: its action runs, the entity goes to ``rejection.state``."""
        assert self.step is not None
        metadata = {"reason": verdict.reason, **verdict.metadata}
        rejection = self.step.rejection
        if rejection is None:
            raise AbortStepError(None, metadata=metadata)  # a "no" with nowhere to go
        done = invoke(self.rt, self.call, rejection.action, ctx)
        metadata.update(done.metadata)
        return Transition(
            HistoryKind.REJECTED, self.step.key, from_status, rejection.state, metadata
        )

    def transaction(self, row: Mapping[str, Any]) -> AbstractContextManager[sa.Connection]:
        """A transaction scoped to ``row``'s tenant (for writes after the first one)."""
        tenant = entity_tenant(self.call.workflow, row, self.call)
        return self.rt.store.transaction(tenant, context=self.call.settings)

    def aborted(self, abort: AbortStepError, row: Mapping[str, Any] | None) -> StepResult:
        """The call rolled back: a plain failure, a permanent one, or a pathless rejection."""
        if abort.error is None:
            return self.finish(self.result(Outcome.REJECTED, metadata=abort.metadata), None)
        if abort.permanent and row is not None and self.call.workflow.failure_statuses:
            return self.fail_permanently(abort, row)
        return self.finish(self.result(Outcome.FAILED, error=abort.error), None)

    def fail_permanently(self, abort: AbortStepError, row: Mapping[str, Any]) -> StepResult:
        """``Result.fail(permanent=True)``: in a new transaction, to the failure status + log."""
        error = abort.error
        assert isinstance(error, UseCaseFailedError)
        target = self.call.workflow.failure_statuses[0]
        transition = Transition(
            self.call.kind,
            self.step.key if self.step else None,
            str(row[self.call.workflow.entity.status_column]),
            target,
            metadata={**error.fields.get("metadata", {}), "error_code": failure_code(error)},
            failure_code=failure_code(error),
            failure_message=error.message,
        )
        try:
            with self.transaction(row) as conn:
                self.version = write(self.rt, conn, self.call, row, transition)
        except AbortStepError as again:
            return self.finish(self.result(Outcome.FAILED, error=again.error), None)
        return self.finish(self.result(Outcome.FAILED, error=error, to_status=target), target)

    def committed(self, t: Transition) -> StepResult:
        """The result of a committed transition."""
        outcome = _OUTCOME.get(t.kind, Outcome.TRANSITIONED)
        return self.result(outcome, to_status=t.to_status, metadata=t.metadata)

    def result(
        self,
        outcome: Outcome,
        *,
        to_status: str | None = None,
        error: StepError | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> StepResult:
        """A ``StepResult`` for this run."""
        return StepResult(
            outcome=outcome,
            workflow=self.call.workflow.name,
            entity_id=str(self.entity_id),
            step=self.step.key if self.step else self.call.step_key,
            from_status=self.status if self.row is not None else None,
            to_status=to_status,
            error=error,
            metadata=dict(metadata or {}),
            duration_ms=self.call.elapsed_ms(),
            correlation_id=self.call.context.correlation_id,
        )

    def finish(self, result: StepResult, entered: str | None) -> StepResult:
        """After-commit effects (events, timers, hooks, log line); returns ``result``.

        ``self.events`` holds only what committed transactions emitted.
        """
        moved = (entered, self.version) if entered is not None else None
        after_commit(self.rt, self.call, result, self.events, moved)
        return result

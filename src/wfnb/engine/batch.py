"""``execute_batch``: one step over many entities, a constant number of statements.

Phase 1, one transaction: one SELECT, the validation stage per step, then a bulk
compare-and-swap (``UPDATE … WHERE (id, version) IN … RETURNING id``) BEFORE the actions,
so an entity that changed concurrently fails alone (WF204) and no action runs for it. That
one statement moves every entity, whatever its target status (accepted, rejected, failed),
and locks the rows in id order whatever the input order: overlapping batches queue behind
each other instead of deadlocking on PostgreSQL. Then the action stage for the winners,
fix-ups re-pointing the entities whose action said no, failed or raised (only rows this
transaction already holds: no second round of locks), and one bulk history insert.
Claimed steps commit their claims in phase 1 and run their actions in phase 2. Use cases
see the entities in id order too (results come back in input order). See
docs/adr/0011-batches-and-per-entity-outcomes.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any

import sqlalchemy as sa

from wfnb.engine.batch_inputs import checked_batch
from wfnb.engine.batch_items import Item, run_stage
from wfnb.engine.context import use
from wfnb.engine.effects import after_commit
from wfnb.engine.results import HistoryKind, Outcome, StepResult
from wfnb.engine.runtime import Runtime
from wfnb.engine.selection import select_step
from wfnb.engine.transitions import (
    AbortStepError,
    Call,
    Transition,
    check_payload,
    entity_tenant,
    failure_code,
    failure_row,
    history_row,
    make_context,
    noted,
    tenant_config,
)
from wfnb.engine.usecases import ResultKind
from wfnb.exceptions import (
    ConcurrentModificationError,
    ContextMissingError,
    EntityNotFoundError,
    StepError,
    UseCaseFailedError,
)
from wfnb.spec import Workflow
from wfnb.store import bulk, queries

__all__ = ["run_batch"]

_QUIET = (HistoryKind.CLAIMED, HistoryKind.RELEASED)  # statuses entered without timers


def _other_config(wf: Workflow, tenant: str | None, key: str) -> ContextMissingError:
    """WF209: a batch over several tenants meets an entity its tenant's overlay governs."""
    return ContextMissingError(
        f"{wf.name}: entity {key!r} of tenant {tenant!r} runs that tenant's config (overlay); "
        f"run it in a batch with tenant_id={tenant!r}",
        entity_id=key,
    )


def run_batch(rt: Runtime, call: Call, entity_ids: Any) -> list[StepResult]:
    """Run the step over ``entity_ids``; one ``StepResult`` per id, in input order.

    Bad ids (and a bad id list) are refused first, each alone (``batch_inputs``).
    """
    with use(call.context):
        return checked_batch(rt, call, entity_ids, lambda ids: _Batch(rt, call, ids).run())


class _Batch:
    def __init__(self, rt: Runtime, call: Call, entity_ids: Sequence[Any]) -> None:
        self.rt, self.call = rt, call
        self.ids = list(dict.fromkeys(entity_ids))  # the results' order
        # The work's order: use cases see the entities by id whatever the input order, so
        # any rows they lock are taken in one global order too.
        self.items = {key: Item(key) for key in sorted(str(i) for i in self.ids)}
        self.spec = call.workflow.entity
        self.tenant = call.context.tenant_id

    def run(self) -> list[StepResult]:
        try:
            data = check_payload(self.call.data, self.rt.max_payload_bytes)
        except AbortStepError as abort:
            for it in self.items.values():
                it.fail(abort.error)
            return self.results()
        self.call = replace(self.call, data=data)
        with self.rt.store.transaction(self.tenant, context=self.call.settings) as conn:
            self.table = self.rt.store.entity_table(self.spec)  # on this connection if cold
            self.load(conn)
            self.validate(conn)
            self.swap(conn, [*self.live(lambda it: it.plan is not None), *self.doomed()])
            self.act(conn, claimed=False)
            self.record(conn, self.items.values())
        self.committed()
        claimed = self.live(lambda it: it.plan is not None and it.plan.kind is HistoryKind.CLAIMED)
        if claimed:
            with self.rt.store.transaction(self.tenant, context=self.call.settings) as conn:
                self.claimed_phase(conn, claimed)
            self.committed()
        return self.results()

    def live(self, keep: Callable[[Item], bool] | None = None) -> list[Item]:
        """Items still heading for a transition (optionally filtered)."""
        return [it for it in self.items.values() if it.live and (keep is None or keep(it))]

    def load(self, conn: sa.Connection) -> None:
        """One SELECT; WF201 for the missing, WF202/WF203 from selection."""
        wf = self.call.workflow
        rows = bulk.select_entities(conn, self.table, self.spec, self.ids, self.tenant)
        for row in rows:
            self.items[str(row[self.spec.id_column])].row = row
        tenants = {entity_tenant(wf, r, self.call) for r in rows}
        if self.tenant is None and len(tenants) == 1 and None not in tenants:
            self.tenant = str(next(iter(tenants)))  # a system batch within one tenant
            self.rt.store.set_tenant(conn, self.tenant)
            self.call = tenant_config(self.call, rows[0])  # and that tenant's config
            wf = self.call.workflow
        for it in self.items.values():
            if it.row is None:
                it.fail(EntityNotFoundError(f"{wf.name}: no entity {it.key!r}", entity_id=it.key))
                continue
            if tenant_config(self.call, it.row).workflow.config_hash != wf.config_hash:
                it.fail(_other_config(wf, entity_tenant(wf, it.row, self.call), it.key))
                continue
            it.from_status = str(it.row[self.spec.status_column])
            try:
                it.step = select_step(
                    wf, it.from_status, self.call.requester_type, self.call.step_key
                )
            except StepError as exc:
                it.fail(exc)
                continue
            it.ctx = make_context(self.rt, conn, self.call, it.step, it.row)

    def by_step(self, items: Iterable[Item]) -> list[list[Item]]:
        """Items grouped by the step they run (one use-case call per group)."""
        groups: dict[str, list[Item]] = defaultdict(list)
        for it in items:
            assert it.step is not None
            groups[it.step.key].append(it)
        return list(groups.values())

    def validate(self, conn: sa.Connection) -> None:
        """The validation stage per step; plans: rejection, claim or success."""
        for group in self.by_step(self.live()):
            step = group[0].step
            assert step is not None
            run_stage(self.rt, conn, self.call, step.validation, group)
            for it in group:
                if not it.live or it.verdict is None or it.from_status is None:
                    continue
                it.metadata.update(it.verdict.metadata)
                if it.verdict.kind is ResultKind.REJECTED:
                    self.reject(it, it.from_status)
                elif step.claim is not None:
                    it.plan = Transition(
                        HistoryKind.CLAIMED, step.key, it.from_status, step.claim.status
                    )
                else:
                    it.plan = Transition(
                        self.call.kind, step.key, it.from_status, step.successful_state
                    )

    def doomed(self) -> list[Item]:
        """Entities whose validation failed permanently: planned into the failure status."""
        wf, out = self.call.workflow, []
        for it in self.items.values():
            error = it.error
            if not (it.permanent and wf.failure_statuses and isinstance(error, UseCaseFailedError)):
                continue
            assert it.step is not None
            assert it.from_status is not None
            it.metadata["error_code"] = failure_code(error)
            it.plan = Transition(
                self.call.kind,
                it.step.key,
                it.from_status,
                wf.failure_statuses[0],
                failure_code=failure_code(error),
                failure_message=error.message,
            )
            out.append(it)
        return out

    def reject(self, it: Item, from_status: str) -> None:
        """Point ``it`` at its rejection state (or end it as a rejection with no path)."""
        assert it.step is not None
        assert it.verdict is not None
        it.metadata["reason"] = it.verdict.reason
        if it.step.rejection is None:
            it.outcome, it.plan = Outcome.REJECTED, None
            return
        it.plan = Transition(
            HistoryKind.REJECTED, it.step.key, from_status, it.step.rejection.state
        )

    def swap(self, conn: sa.Connection, items: Sequence[Item]) -> None:
        """One bulk CAS for every planned item, whatever its target; losers fail with WF204.

        Accepted, rejected and doomed entities are swapped by the same statement, which
        locks their rows in id order: a second, per-target round of locks would follow
        the input order and let two overlapping batches deadlock on PostgreSQL.
        """
        expected = [(it.key, self.version(it), self.planned(it).to_status) for it in items]
        won = bulk.compare_and_swap_many(conn, self.table, self.spec, expected) if items else set()
        for it in items:
            if it.key in won:
                it.swapped = it.plan
                continue
            it.plan = None
            it.fail(
                ConcurrentModificationError(
                    f"{self.call.workflow.name}: entity {it.key!r} changed concurrently",
                    entity_id=it.key,
                    expected=self.version(it),
                )
            )

    @staticmethod
    def planned(it: Item) -> Transition:
        assert it.plan is not None
        return it.plan

    def version(self, it: Item) -> int:
        assert it.row is not None
        return int(it.row[self.spec.version_column])

    def act(self, conn: sa.Connection, *, claimed: bool) -> None:
        """Action, then rejection action, per step; then re-point whoever did not make it."""
        moving = self.live(lambda it: it.swapped is not None and it.swapped.kind not in _QUIET)
        for group in self.by_step(moving):
            step = group[0].step
            assert step is not None
            forward = [
                it for it in group if it.swapped and it.swapped.kind is not HistoryKind.REJECTED
            ]
            run_stage(self.rt, conn, self.call, step.action, forward)
            for it in forward:
                if it.live and it.verdict and it.verdict.kind is ResultKind.REJECTED:
                    assert it.swapped is not None
                    self.reject(it, it.swapped.from_status)  # the action said no
                elif it.live and it.verdict:
                    it.metadata.update(it.verdict.metadata)
            back = [
                it for it in group if it.live and it.plan and it.plan.kind is HistoryKind.REJECTED
            ]
            rejection_action = step.rejection.action if step.rejection else None
            run_stage(self.rt, conn, self.call, rejection_action, back)
            for it in back:
                if it.live and it.verdict:
                    it.metadata.update(it.verdict.metadata)
        for it in moving:
            if it.error is not None or it.plan is None:
                self.settle(it, claimed=claimed)
        self.restate(conn, moving)

    def settle(self, it: Item, *, claimed: bool) -> None:
        """Where an entity whose use case failed (or said no, pathless) ends up."""
        wf, sw = self.call.workflow, it.swapped
        assert it.step is not None
        assert sw is not None
        if it.permanent and wf.failure_statuses and isinstance(it.error, UseCaseFailedError):
            target = wf.failure_statuses[0]
            it.metadata["error_code"] = failure_code(it.error)
            it.plan = Transition(
                self.call.kind,
                it.step.key,
                sw.from_status,
                target,
                failure_code=failure_code(it.error),
                failure_message=it.error.message,
            )
        elif claimed:  # give the claim back
            if it.error is not None:
                it.metadata["error_code"] = it.error.code
            it.plan = Transition(HistoryKind.RELEASED, it.step.key, sw.from_status, it.step.status)
        else:
            it.plan = None  # undone: the entity ends exactly as read

    def restate(self, conn: sa.Connection, items: Iterable[Item]) -> None:
        """Grouped UPDATEs making the database agree with each item's final plan."""
        fixes: dict[tuple[str, int], list[str]] = defaultdict(list)
        for it in items:
            sw = it.swapped
            if sw is None:
                continue
            if it.plan is None:
                fixes[(sw.from_status, -1)].append(it.key)
            elif it.plan.to_status != sw.to_status:
                fixes[(it.plan.to_status, 0)].append(it.key)
        for (target, delta), keys in fixes.items():
            bulk.restate_many(
                conn, self.table, self.spec, keys, to_status=target, version_delta=delta
            )

    def record(self, conn: sa.Connection, items: Iterable[Item]) -> None:
        """One bulk history insert (and failure-log insert) for the entities that moved."""
        now = self.rt.clock.now()
        rows, failures = [], []
        for it in items:
            if it.plan is None or it.swapped is None or it.row is None:
                continue
            t = replace(it.plan, metadata=dict(it.metadata))
            tenant = entity_tenant(self.call.workflow, it.row, self.call)
            rows.append(history_row(self.call, it.key, tenant, t, now, self.version(it) + 1))
            if t.to_status in self.call.workflow.failure_statuses:
                failures.append(failure_row(self.call, it.key, tenant, t, now))
        noted(self.rt, rows, queries.insert_history(conn, rows))
        queries.insert_failures(conn, failures)

    def committed(self) -> None:
        """Keep what committed use cases emitted (published after the last phase)."""
        for it in self.items.values():
            if it.ctx is not None:
                it.events.extend(it.ctx.events)
                it.ctx.events.clear()

    def claimed_phase(self, conn: sa.Connection, items: list[Item]) -> None:
        """Phase 2: the claimed entities' actions, and the move out of the claim status."""
        for it in items:
            assert it.plan is not None
            assert it.step is not None
            assert it.row is not None
            claim_status = it.plan.to_status
            it.row = {
                **it.row,
                self.spec.status_column: claim_status,
                self.spec.version_column: self.version(it) + 1,
            }
            it.ctx = make_context(self.rt, conn, self.call, it.step, it.row)
            it.plan = Transition(
                self.call.kind, it.step.key, claim_status, it.step.successful_state
            )
            it.swapped = None
        self.swap(conn, items)
        self.act(conn, claimed=True)
        self.record(conn, items)

    def results(self) -> list[StepResult]:
        """Per-entity results in input order; effects run for each."""
        out: dict[str, StepResult] = {}
        for it in self.items.values():
            out[it.key] = result = self.result(it)
            plan = it.plan if it.swapped is not None else None
            moved = plan is not None and plan.kind not in _QUIET
            entered = (plan.to_status, self.version(it) + 1) if plan and moved else None
            after_commit(self.rt, self.call, result, it.events, entered)
        return [out[str(i)] for i in self.ids]

    def result(self, it: Item) -> StepResult:
        if it.error is not None:
            outcome = Outcome.FAILED
        elif it.outcome is not None or (it.plan and it.plan.kind is HistoryKind.REJECTED):
            outcome = Outcome.REJECTED
        else:
            outcome = Outcome.TRANSITIONED
        return StepResult(
            outcome=outcome,
            workflow=self.call.workflow.name,
            entity_id=it.key,
            step=it.step.key if it.step else self.call.step_key,
            from_status=it.from_status,
            to_status=it.plan.to_status if it.plan is not None else None,
            error=it.error,
            metadata=dict(it.metadata),
            duration_ms=self.call.elapsed_ms(),
            correlation_id=self.call.context.correlation_id,
        )

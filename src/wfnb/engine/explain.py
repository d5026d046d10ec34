"""``Engine.explain``: which steps apply to an entity for a requester, and why not (no writes)."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

from wfnb._html import table
from wfnb.engine import inputs
from wfnb.engine.context import resolve
from wfnb.engine.cron import check_system_requester
from wfnb.engine.runtime import Runtime
from wfnb.engine.selection import select_step, why_not
from wfnb.exceptions import EntityNotFoundError, StepError
from wfnb.spec import Step, Workflow
from wfnb.store import queries

__all__ = ["Explanation", "StepOption", "explain"]


@dataclass(frozen=True, slots=True)
class StepOption:
    """One step at the entity's status, as the requester would see it."""

    key: str
    applies: bool
    reason: str | None
    validation: str | None
    action: str | None
    target: str
    rejection_state: str | None
    claim_status: str | None
    auto_advance: bool


@dataclass(frozen=True, slots=True)
class Explanation:
    """The entity's status, every step there, and what a call would do."""

    workflow: str
    entity_id: str
    requester_type: str
    status: str | None
    options: tuple[StepOption, ...]
    selected: str | None
    error: StepError | None
    observed: tuple[str, ...] = ()

    def __str__(self) -> str:
        head = f"{self.workflow}:{self.entity_id} as {self.requester_type!r}"
        if self.status is None:
            return f"{head}: {self.error.one_line() if self.error else 'not found'}"
        lines = [f"{head} is at {self.status!r}"]
        for o in self.options:
            mark = "applies" if o.applies else f"does not apply: {o.reason}"
            runs = " -> ".join(n for n in (o.validation, o.action) if n) or "(no use case)"
            claim = f" via claim {o.claim_status!r}" if o.claim_status else ""
            lines.append(f"  - {o.key}: {mark}; runs {runs}; goes to {o.target!r}{claim}")
        if not self.options:
            lines.append("  (no step is declared at this status)")
        lines.extend(f"  - observed: {o}" for o in self.observed)
        verdict = f"would run {self.selected!r}" if self.selected else "would run nothing"
        why = f" ({self.error.one_line()})" if self.error else ""
        lines.append(f"=> {verdict}{why}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = [
            (
                o.key,
                "yes" if o.applies else "no",
                o.reason,
                o.validation,
                o.action,
                o.target,
                o.rejection_state,
                o.claim_status,
            )
            for o in self.options
        ]
        caption = f"{self.workflow}:{self.entity_id} at {self.status} as {self.requester_type}"
        verdict = escape(str(self).splitlines()[-1])
        headers = ["step", "applies", "why not", "validation", "action", "→", "→ rejection"]
        return table([*headers, "claim"], rows, caption=caption) + f"<p>{verdict}</p>"


def _option(step: Step, status: str, requester_type: str) -> StepOption:
    reason = why_not(step, status, requester_type)
    seen = step.for_requester(requester_type) if reason is None else step
    return StepOption(
        key=step.key,
        applies=reason is None,
        reason=reason,
        validation=seen.validation,
        action=seen.action,
        target=seen.successful_state,
        rejection_state=seen.rejection.state if seen.rejection else None,
        claim_status=seen.claim.status if seen.claim else None,
        auto_advance=seen.auto_advance,
    )


def explain(
    rt: Runtime,
    wf: Workflow,
    entity_id: Any,
    requester_type: str,
    *,
    step: str | None,
    tenant_id: str | None,
) -> Explanation:
    """Read the entity and explain the selection for ``requester_type`` (and ``step``)."""
    try:  # a bad id or tenant is WF208 (WF201: an id the table cannot hold), nothing read
        inputs.check_tenant(tenant_id)
        key = inputs.entity_key(rt.store.entity_table(wf.entity), wf.entity.id_column, entity_id)
    except StepError as exc:
        return Explanation(wf.name, str(entity_id), requester_type, None, (), None, exc)
    with rt.store.transaction(tenant_id, readonly=True) as conn:
        table_ = rt.store.entity_table(wf.entity)
        row = queries.select_entity(conn, table_, wf.entity, key, tenant_id)
    if row is None:
        missing = EntityNotFoundError(
            f"{wf.name}: no entity {entity_id!r}", entity_id=str(entity_id)
        )
        return Explanation(wf.name, str(entity_id), requester_type, None, (), None, missing)
    if wf.entity.tenant_column is not None and row.get(wf.entity.tenant_column) is not None:
        wf = wf.for_tenant(str(row[wf.entity.tenant_column]))  # as its tenant runs it
    status = str(row[wf.entity.status_column])
    steps = list(wf.steps_at(status))
    named = wf.step(step) if step else None
    if named is not None and named not in steps:
        steps.append(named)
    options = tuple(_option(s, status, requester_type) for s in steps)
    observed = tuple(
        f"{o.to!r} from {o.source!r}" for o in wf.observed_transitions if o.from_ == status
    )
    try:  # as execute_step: a system requester type outside a cron is refused first (WF209)
        check_system_requester(wf, resolve(requester_type=requester_type))
        selected: str | None = select_step(wf, status, requester_type, step).key
        error: StepError | None = None
    except StepError as exc:
        selected, error = None, exc
    return Explanation(
        wf.name, str(entity_id), requester_type, status, options, selected, error, observed
    )

"""Field-by-field comparison of two workflow versions into classified ``Change``s.

Comparisons run on the old version *translated* (renamed statuses and steps spelled the
new way), so a rename is reported once, not again at every step that mentions it; the
values shown are the old version's own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from typing import Any

from wfnb.analysis.change import Change, ChangeKind
from wfnb.analysis.migration import suggest_target
from wfnb.spec import Step, Workflow

__all__ = ["compare"]

K = ChangeKind

_STEP_FIELDS: list[tuple[ChangeKind, str, Callable[[Step], Any]]] = [
    (K.STEP_STATUS, "", lambda s: s.status),
    (K.SUCCESSFUL_STATE, "", lambda s: s.successful_state),
    (K.REJECTION, "", lambda s: s.rejection.state if s.rejection else None),
    (K.USE_CASE, ".validation", lambda s: s.validation),
    (K.USE_CASE, ".action", lambda s: s.action),
    (K.USE_CASE, ".rejection.action", lambda s: s.rejection.action if s.rejection else None),
    (
        K.REQUESTER_TYPES,
        "",
        lambda s: None if s.requester_types is None else tuple(sorted(s.requester_types)),
    ),
    (K.AUTO_ADVANCE, "", lambda s: s.auto_advance),
    (K.CLAIM, "", lambda s: s.claim.model_dump() if s.claim else None),
]


def _statuses(old: Workflow, new: Workflow, renames: Mapping[str, str]) -> Iterator[Change]:
    for s in old.status_types:
        if s in renames:
            yield replace(Change.of(K.STATUS_RENAMED, s, s, renames[s]), target=renames[s])
        elif s not in new.status_types:
            target, why = suggest_target(old, new, s, renames)
            c = Change.of(K.STATUS_REMOVED, s, s, None, f"suggested target {target!r}: {why}")
            yield replace(c, target=target)
    moved_to = set(renames.values())
    for s in new.status_types:
        if s not in old.status_types and s not in moved_to:
            yield Change.of(K.STATUS_ADDED, s, None, s)


def _way_out_lost(new: Workflow, status: str) -> str:
    if status not in new.status_types or new.is_terminal(status):
        return ""
    if new.steps_at(status) or any(o.from_ == status for o in new.observed_transitions):
        return ""
    return (
        f"{status!r} now has no step or observed transition out: add a step "
        "(a config follow-up, not an entity migration)"
    )


def _step_pair(key: str, raw: Step, before: Step, after: Step) -> Iterator[Change]:
    for kind, suffix, get in _STEP_FIELDS:
        if get(before) != get(after):
            yield Change.of(kind, key + suffix, get(raw), get(after))
    for r in sorted({*before.overrides, *after.overrides}):
        was, now = before.overrides.get(r), after.overrides.get(r)
        if was != now:
            shown = raw.overrides.get(r)
            yield Change.of(
                K.OVERRIDE,
                f"{key}[{r}]",
                shown.model_dump(exclude_none=True) if shown else None,
                now.model_dump(exclude_none=True) if now else None,
            )


def _steps(
    raw: Workflow, old: Workflow, new: Workflow, renames: Mapping[str, str]
) -> Iterator[Change]:
    back = {v: k for k, v in renames.items()}
    for step in raw.steps:
        key = renames.get(step.key, step.key)
        if new.step(key) is None:
            at = old.step(key)
            lost = _way_out_lost(new, at.status) if at else ""
            yield Change.of(K.STEP_REMOVED, step.key, step.key, None, lost)
        elif step.key in renames:
            yield Change.of(K.STEP_RENAMED, step.key, step.key, key)
    for step in new.steps:
        old_key = back.get(step.key, step.key)
        raw_step, before = raw.step(old_key), old.step(step.key)
        if raw_step is None or before is None:
            yield Change.of(K.STEP_ADDED, step.key, None, step.key)
        else:
            yield from _step_pair(step.key, raw_step, before, step)


def _timers(raw: Workflow, old: Workflow, new: Workflow) -> Iterator[Change]:
    shown = {t.key: t.model_dump() for t in raw.timers}
    before = {t.key: t.model_dump() for t in old.timers}
    after = {t.key: t.model_dump() for t in new.timers}
    for key, was in before.items():
        now = after.get(key)
        if now is None:
            yield Change.of(K.TIMER_REMOVED, key, shown[key], None)
        elif was != now:
            yield Change.of(K.TIMER_CHANGED, key, shown[key], now)
    yield from (Change.of(K.TIMER_ADDED, k, None, t) for k, t in after.items() if k not in before)


def _observed(raw: Workflow, old: Workflow, new: Workflow) -> Iterator[Change]:
    def triple(o: Any) -> tuple[str, str, str]:
        return (o.from_, o.to, o.source)

    shown = {
        triple(t): triple(r)
        for t, r in zip(old.observed_transitions, raw.observed_transitions, strict=True)
    }
    after = [triple(o) for o in new.observed_transitions]
    for t, r in shown.items():
        if t not in after:
            yield Change.of(K.OBSERVED_REMOVED, f"{r[0]} -> {r[1]} ({r[2]})", r, None)
    for t in after:
        if t not in shown:
            yield Change.of(K.OBSERVED_ADDED, f"{t[0]} -> {t[1]} ({t[2]})", None, t)


def _workflow(raw: Workflow, old: Workflow, new: Workflow) -> Iterator[Change]:
    if old.initial_status != new.initial_status:
        yield Change.of(K.INITIAL_STATUS, "initial_status", raw.initial_status, new.initial_status)
    sets = [
        (K.TERMINAL_STATUSES, "terminal_statuses"),
        (K.FAILURE_STATUSES, "failure_statuses"),
        (K.REQUESTER_TYPES, "requester_types"),
    ]
    for kind, name in sets:
        if set(getattr(old, name)) != set(getattr(new, name)):
            yield Change.of(kind, name, getattr(raw, name), getattr(new, name))
    if old.use_cases != new.use_cases:
        yield Change.of(K.USE_CASE, "use_cases", raw.use_cases, new.use_cases)
    if old.entity != new.entity:
        yield Change.of(K.ENTITY, "entity", raw.entity.model_dump(), new.entity.model_dump())
    for name in ("name", "description", "owning_module"):
        if getattr(old, name) != getattr(new, name):
            yield Change.of(K.METADATA, name, getattr(raw, name), getattr(new, name))


def compare(
    raw: Workflow,
    translated: Workflow,
    new: Workflow,
    statuses: Mapping[str, str],
    steps: Mapping[str, str],
) -> list[Change]:
    """Every change from ``raw`` (the old version) to ``new``.

    Args:
        raw: the old version as written.
        translated: the old version with the renames applied (see ``renames.translate``).
        new: the new version.
        statuses: renamed statuses, old → new.
        steps: renamed steps, old key → new key.
    """
    return [
        *_statuses(raw, new, statuses),
        *_steps(raw, translated, new, steps),
        *_timers(raw, translated, new),
        *_observed(raw, translated, new),
        *_workflow(raw, translated, new),
    ]

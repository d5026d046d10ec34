"""Telling a rename from a removal plus an addition, for ``diff`` (see ADR 0031).

Both heuristics only ever pair names one-to-one and unambiguously: when two candidates fit
equally well, nothing is called a rename and the change shows as removed + added (which is
the safe reading: a removal asks for a migration too, with a suggested target).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import networkx as nx

from wfnb.analysis.graph import graph
from wfnb.spec import Step, Workflow

__all__ = ["status_renames", "step_renames", "translate"]

_SELF = "\x00self"
"""Stands for the status itself in an edge signature (self-loops, claim release back)."""


def _signature(g: nx.MultiDiGraph, status: str) -> Counter[tuple[str, str, str]]:
    """The status's edges as (direction, other end, kind), independent of its own name."""
    sig: Counter[tuple[str, str, str]] = Counter()
    for u, _, kind in g.in_edges(status, data="kind"):
        sig["in", _SELF if u == status else u, str(kind)] += 1
    for _, v, kind in g.out_edges(status, data="kind"):
        if v != status:  # a self-loop was counted once, as an in-edge
            sig["out", v, str(kind)] += 1
    return sig


def _pair_uniquely(
    removed: list[str], added: list[str], same: Callable[[str, str], bool]
) -> dict[str, str]:
    """Pairs (removed → added) where each side has exactly one candidate on the other."""
    fits = {r: [a for a in added if same(r, a)] for r in removed}
    claimed = Counter(a for candidates in fits.values() for a in candidates)
    return {r: c[0] for r, c in fits.items() if len(c) == 1 and claimed[c[0]] == 1}


def status_renames(old: Workflow, new: Workflow) -> dict[str, str]:
    """Statuses renamed between two versions: old name → new name.

    A status that disappeared and one that appeared are a rename when the old one's edges
    map onto the new one: the same multiset of (incoming / outgoing, other status, edge
    kind), the other statuses being ones both versions declare. Step keys are ignored, so a
    status renamed together with its steps is still found. A status with no edges at all is
    never paired (nothing to recognise it by).
    """
    removed = [s for s in old.status_types if s not in new.status_types]
    added = [s for s in new.status_types if s not in old.status_types]
    if not removed or not added:
        return {}
    g_old, g_new = graph(old), graph(new)
    old_sigs = {s: _signature(g_old, s) for s in removed if s in g_old}
    new_sigs = {s: _signature(g_new, s) for s in added if s in g_new}

    def same(r: str, a: str) -> bool:
        sig = old_sigs.get(r)
        return bool(sig) and sig == new_sigs.get(a)

    return _pair_uniquely(removed, added, same)


def _shape(step: Step, statuses: Mapping[str, str]) -> tuple[Any, ...]:
    def m(s: str | None) -> str | None:
        return None if s is None else statuses.get(s, s)

    rejection = step.rejection
    return (
        m(step.status),
        m(step.successful_state),
        m(rejection.state) if rejection else None,
        rejection.action if rejection else None,
        step.validation,
        step.action,
    )


def step_renames(old: Workflow, new: Workflow, statuses: Mapping[str, str]) -> dict[str, str]:
    """Steps renamed between two versions: old key → new key.

    A removed and an added step are a rename when they apply at the same status, lead to
    the same targets (success and rejection) and name the same use cases (validation,
    action, rejection action), statuses compared after ``statuses`` renames.
    """
    new_keys = {s.key for s in new.steps}
    old_keys = {s.key for s in old.steps}
    removed = [s.key for s in old.steps if s.key not in new_keys]
    added = [s.key for s in new.steps if s.key not in old_keys]

    def same(r: str, a: str) -> bool:
        before, after = old.step(r), new.step(a)
        assert before is not None
        assert after is not None
        return _shape(before, statuses) == _shape(after, {})

    return _pair_uniquely(removed, added, same)


def _rename_in_step(step: dict[str, Any], m: Callable[[str], str]) -> None:
    for part in (step, *step.get("overrides", {}).values()):
        if part.get("status"):
            part["status"] = m(part["status"])
        if part.get("successful_state"):
            part["successful_state"] = m(part["successful_state"])
        for nested in ("rejection", "claim"):
            field = "state" if nested == "rejection" else "status"
            if part.get(nested):
                part[nested][field] = m(part[nested][field])


def translate(old: Workflow, statuses: Mapping[str, str], steps: Mapping[str, str]) -> Workflow:
    """``old`` with renamed statuses and step keys spelled the new way, for comparing."""
    if not statuses and not steps:
        return old

    def m(s: str) -> str:
        return statuses.get(s, s)

    data = old.model_dump(mode="json", by_alias=True)
    for field in ("status_types", "terminal_statuses", "failure_statuses"):
        data[field] = [m(s) for s in data[field]]
    data["initial_status"] = m(data["initial_status"])
    for step in data["steps"]:
        _rename_in_step(step, m)
        step["key"] = steps.get(step["key"], step["key"])
    for obs in data["observed_transitions"]:
        obs["from"], obs["to"] = m(obs["from"]), m(obs["to"])
    for timer in data["timers"]:
        timer["status"] = m(timer["status"])
        timer["step"] = steps.get(timer["step"], timer["step"])
    return Workflow.model_validate(data)

"""Tenant overlays at load: merge each into its base, then check the merged config like any.

A problem of the overlay itself (``wfnb.overlays``), or one the merged config has and its
base has not (a tenant's use-case module that does not import, an auto-advance loop the
overlay made), names the overlay file and a pointer into it (``/steps/<key>/…``,
``/timers/<key>/…``). Problems the base has anyway are reported once, against the base.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace

from wfnb.loader import read_document
from wfnb.overlays import OverlaySource, apply_overlay
from wfnb.problems import Problem, Severity, pointer
from wfnb.spec import Workflow
from wfnb.validation.context import Checked

__all__ = ["check_overlays"]

Check = Callable[[Checked], Iterable[Problem]]


def _key(p: Problem) -> tuple[str, str, str]:
    return (p.code, p.pointer, p.message)


def _in_overlay(merged: Workflow, where: str) -> str:
    """The pointer of the merged config's value as the overlay spells it (keys, not indexes)."""
    parts = where.split("/")[1:]
    if len(parts) >= 2 and parts[0] in ("steps", "timers") and parts[1].isdigit():
        items = merged.steps if parts[0] == "steps" else merged.timers
        if int(parts[1]) < len(items):
            parts[1] = pointer(items[int(parts[1])].key)[1:]
    return "".join("/" + p for p in parts)


def _merged_problems(base: Workflow, merged: Workflow, file: str, check: Check) -> list[Problem]:
    """Problems the merged config has and its base has not, named by the overlay file."""
    known = {_key(p) for p in check(Checked(base, file))}
    out = []
    for p in check(Checked(merged, file)):
        if _key(p) not in known:
            where = _in_overlay(merged, p.pointer)
            message = f"as tenant {merged.tenant!r} runs it: {p.message}"
            out.append(replace(p, pointer=where, message=message, workflow=base.name))
    return out


def check_overlays(
    overlays: Iterable[OverlaySource],
    parsed: Mapping[str, Workflow],
    named: set[str],
    check: Check,
) -> tuple[list[Problem], dict[str, Workflow]]:
    """Merge and check every overlay; the bases that have clean overlays, linked to them.

    Args:
        overlays: the overlay files found.
        parsed: the workflows that parsed, by name.
        named: every workflow name a source gave (a base that failed to parse is no
            "unknown workflow" for its overlays: its own problems say why).
        check: the per-workflow checks (WF101 lengths, WF102-WF110).

    Returns:
        The problems, and ``name -> base.with_tenants(...)`` for bases with clean overlays.
    """
    problems: list[Problem] = []
    merged: dict[str, dict[str, Workflow]] = {}
    for ov in overlays:
        file = ov.source.file
        data, problem = read_document(ov.source, what="tenant overlay")
        base = parsed.get(ov.workflow)
        if problem is not None:
            problems.append(replace(problem, workflow=ov.workflow))
            continue
        if base is None:
            if ov.workflow not in named:
                known = ", ".join(sorted(named)) or "none"
                message = f"overlay for unknown workflow {ov.workflow!r} (workflows: {known})"
                problems.append(Problem("WF114", Severity.ERROR, file, "", message, ov.workflow))
            continue
        wf, found = apply_overlay(base, data, ov.tenant, file)
        problems.extend(found)
        if wf is None:
            continue
        found = _merged_problems(base, wf, file, check)
        problems.extend(found)
        if not any(p.severity is Severity.ERROR for p in found):
            merged.setdefault(base.name, {})[ov.tenant] = wf
    linked = {name: parsed[name].with_tenants(tenants) for name, tenants in merged.items()}
    return problems, linked

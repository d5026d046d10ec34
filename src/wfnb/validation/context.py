"""The unit every check works on: a parsed workflow, its file, and pointers back into that file.

A workflow whose file has schema problems (WF101/WF111) is still checked for everything else
when the broken parts can be set aside: a broken step, timer or observed transition is left
out, an unknown field is dropped, and the rest is validated again. The indexes of what is
left are mapped back to the file's, so every pointer names the value in the file as written.
Checks that would be misled by a missing part (orphaned statuses, a timer naming a step that
was left out) skip themselves when ``complete`` is false.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from wfnb.problems import Problem, Severity, pointer
from wfnb.spec import Workflow

__all__ = ["Checked", "recover"]

LIST_FIELDS = (
    "status_types",
    "requester_types",
    "system_requester_types",
    "terminal_statuses",
    "failure_statuses",
    "steps",
    "observed_transitions",
    "timers",
)
OPTIONAL_FIELDS = (
    "description",
    "failure_statuses",
    "observed_transitions",
    "timers",
    "system_requester_types",
)
# Leaving one of these out can make a status look orphaned or a timer's step look missing.
GRAPH_FIELDS = frozenset({"status_types", "steps", "observed_transitions", "timers"})


@dataclass(frozen=True, slots=True)
class Checked:
    """A workflow to check, where it came from, and how its list indexes map to the file's.

    Attributes:
        workflow: the parsed model (possibly with broken parts left out).
        file: the file (or ``<dict 0>``) every problem names.
        positions: per list field, the file index of each model index, when some were left out.
        complete: false when something that the graph checks depend on was left out.
        dropped_step_keys: keys of the steps left out; ``None`` when one had no readable key.
    """

    workflow: Workflow
    file: str
    positions: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    complete: bool = True
    dropped_step_keys: frozenset[str] | None = frozenset()

    def at(self, *parts: str | int) -> str:
        """The JSON pointer in the file of the model's value at ``parts``.

        ``at("steps", 3, "status")`` is ``/steps/3/status`` when nothing was left out, and
        names the step's index in the file when something before it was.
        """
        mapped = self.positions.get(str(parts[0])) if len(parts) > 1 else None
        if mapped is not None and isinstance(parts[1], int):
            parts = (parts[0], mapped[parts[1]], *parts[2:])
        return pointer(*parts)

    def problem(
        self, code: str, where: str, message: str, severity: Severity = Severity.ERROR
    ) -> Problem:
        """A problem of this workflow at ``where``."""
        return Problem(code, severity, self.file, where, message, self.workflow.name)

    def step_left_out(self, key: str) -> bool:
        """Whether a step with ``key`` may have been left out by the repair."""
        return self.dropped_step_keys is None or key in self.dropped_step_keys


def _locations(exc: ValidationError) -> list[tuple[str, tuple[str | int, ...]]]:
    out = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        out.append((err["type"], loc))
    return out


def _without_key(data: Any, loc: Sequence[str | int]) -> Any:
    """A copy of ``data`` with the key at ``loc`` removed (copying only along the path)."""
    if not loc:
        return data
    head, rest = loc[0], loc[1:]
    if isinstance(data, dict) and head in data:
        copy = dict(data)
        if rest:
            copy[head] = _without_key(data[head], rest)
        else:
            del copy[head]
        return copy
    if isinstance(data, list) and isinstance(head, int) and 0 <= head < len(data) and rest:
        items = list(data)
        items[head] = _without_key(items[head], rest)
        return items
    return data


def _plan(
    data: dict[str, Any], locations: Iterable[tuple[str, tuple[str | int, ...]]]
) -> tuple[dict[str, Any], dict[str, set[int]]] | None:
    """Unknown keys removed and the list items to leave out, or None when beyond repair."""
    drop: dict[str, set[int]] = {}
    for kind, loc in locations:
        if not loc:
            return None
        head = loc[0]
        if kind == "extra_forbidden":
            data = _without_key(data, loc)
        elif head in LIST_FIELDS and len(loc) >= 2 and isinstance(loc[1], int):
            drop.setdefault(str(head), set()).add(loc[1])
        elif head in OPTIONAL_FIELDS:
            data = _without_key(data, loc[:1])
        else:
            return None
    return data, drop


def _step_keys(steps: Any, indexes: Iterable[int]) -> frozenset[str] | None:
    keys = set()
    for i in indexes:
        item = steps[i] if isinstance(steps, list) and i < len(steps) else None
        key = item.get("key") if isinstance(item, dict) else None
        if not isinstance(key, str):
            return None
        keys.add(key)
    return frozenset(keys)


def recover(file: str, data: Mapping[str, Any] | None) -> Checked | None:
    """The checkable part of a workflow whose schema check failed, or None when none is."""
    if data is None:
        return None
    try:
        Workflow.model_validate(data)
    except ValidationError as exc:
        plan = _plan(dict(data), _locations(exc))
    else:  # pragma: no cover - the caller only asks for data that failed
        plan = (dict(data), {})
    if plan is None:
        return None
    fixed, drop = plan
    positions: dict[str, tuple[int, ...]] = {}
    for name, indexes in drop.items():
        items = fixed.get(name)
        if isinstance(items, list):
            positions[name] = tuple(i for i in range(len(items)) if i not in indexes)
            fixed[name] = [item for i, item in enumerate(items) if i not in indexes]
    try:
        wf = Workflow.model_validate(fixed)
    except ValidationError:
        return None
    missing = {f for f in GRAPH_FIELDS if f in data and f not in fixed}
    return Checked(
        workflow=wf,
        file=file,
        positions=positions,
        complete=not (missing or GRAPH_FIELDS & set(drop)),
        dropped_step_keys=_step_keys(data.get("steps"), drop.get("steps", ())),
    )

"""From a log's events to history rows: the attribute mapping and the row builder.

A log wfnb exported carries every history column under ``wfnb:`` and is taken as it is.
Any other log is read through a :class:`LogMapping`: which attribute names the case, the
activity (a status entered, or a step taken), the time, the resource (``user_id``) and the
role (``requester_type``), with optional renames of activity values. The builder derives
what the log does not say from the workflow: ``from_status`` is the case's previous
status (None for a case that starts mid-process), a step's target is its
``successful_state``, a status's step is the one step between the two statuses if there is
exactly one; a row with a step is ``initiated``, one without ``observed``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from wfnb.eventlog.fields import ACTIVITIES, PREFIX, parse_time
from wfnb.exceptions import EventLogError, WfnbUsageError
from wfnb.spec import ID_LENGTH, NAME_LENGTH, Workflow

__all__ = ["KINDS", "LogMapping", "RowBuilder", "Where", "describe"]

KINDS = frozenset({"initiated", "rejected", "observed", "claimed", "released", "timer", "janitor"})
_LONG = frozenset({"wfnb:user_id", "wfnb:entity_id"})
Where = tuple[int, int]
"""A reader's position: (line, column) in XML, (row, 0) in a table, (event, 0) in OCEL."""
WHERE_UNITS = ("line", "row", "event")


def describe(where: Where, unit: str) -> str:
    """``"line 12, column 4"`` / ``"row 17"`` / ``"event 3"``."""
    return f"line {where[0]}, column {where[1]}" if unit == "line" else f"{unit} {where[0]}"


@dataclass(frozen=True, slots=True)
class LogMapping:
    """Which of a log's attributes mean what to wfnb (every field has a default).

    Attributes:
        case: the case (entity id) attribute of the trace, or of each event in a table.
        activity: the activity attribute of each event.
        activity_is: ``"status"`` (the value is the status entered) or ``"step"``.
        timestamp: the time attribute.
        resource: the attribute copied into ``user_id``.
        role: the attribute copied into ``requester_type``.
        requester: the requester type when ``role`` is absent and the step does not fix one.
        renames: activity value -> status or step key (``{"Register request": "registered"}``).
        source: ``source`` of the imported rows.
        object_type: OCEL: the object type whose objects are the cases (default: the
            workflow's entity table, else the only type).
    """

    case: str = "concept:name"
    activity: str = "concept:name"
    activity_is: str = "status"
    timestamp: str = "time:timestamp"
    resource: str = "org:resource"
    role: str = "org:role"
    requester: str | None = None
    renames: Mapping[str, str] = field(default_factory=dict)
    source: str = "import"
    object_type: str | None = None

    def __post_init__(self) -> None:
        if self.activity_is not in ACTIVITIES:
            raise WfnbUsageError(
                f"mapping: activity_is must be 'status' or 'step', not {self.activity_is!r}"
            )

    @classmethod
    def of(cls, value: LogMapping | Mapping[str, Any] | str | Path | None) -> LogMapping:
        """A mapping from itself, a dict, JSON text or a JSON file (WF400 when malformed)."""
        if value is None or isinstance(value, LogMapping):
            return value or cls()
        data: Any = value
        if isinstance(value, Path) or (
            isinstance(value, str) and not value.lstrip().startswith("{")
        ):
            try:
                data = json.loads(Path(value).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise WfnbUsageError(f"mapping: cannot read {str(value)!r}: {exc}") from None
        elif isinstance(value, str):
            try:
                data = json.loads(value)
            except ValueError as exc:
                raise WfnbUsageError(f"mapping: not JSON: {exc}") from None
        if not isinstance(data, Mapping):
            raise WfnbUsageError("mapping: must be a JSON object")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise WfnbUsageError(
                f"mapping: unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})"
            )
        for key, val in data.items():
            ok = (
                isinstance(val, Mapping)
                if key == "renames"
                else val is None or isinstance(val, str)
            )
            if not ok or (key == "renames" and not all(isinstance(v, str) for v in val.values())):
                raise WfnbUsageError(f"mapping: bad value for {key!r}: {val!r}")
        return cls(**data)


def _text(value: Any, limit: int = NAME_LENGTH) -> str | None:
    if value is None or value == "":
        return None
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit or "\x00" in text:
        raise ValueError(f"{text[:40]!r}... is longer than {limit} characters or holds NUL")
    return text


class RowBuilder:
    """Turns (case attributes, event attributes) into history rows, case by case."""

    def __init__(
        self, workflows: Mapping[str, Workflow], mapping: LogMapping, unit: str = "line"
    ) -> None:
        self.workflows = workflows
        self.unit = unit
        self.mapping = mapping
        self.default = next(iter(workflows)) if len(workflows) == 1 else None
        self.cases: dict[tuple[str, str], list[Any]] = {}
        """(workflow, entity id) -> [last status, rows, version, tenant, the case's own state]."""
        self.skipped: dict[str, int] = {}
        self._targets: dict[str, dict[tuple[str, str | None], str]] = {}
        self._steps: dict[str, dict[tuple[str | None, str], str | None]] = {}
        for name, wf in workflows.items():
            targets: dict[tuple[str, str | None], str] = {}
            between: dict[tuple[str | None, str], str | None] = {}
            for step in wf.steps:
                targets[(step.key, step.status)] = step.successful_state
                targets.setdefault((step.key, None), step.successful_state)
                pair = (step.status, step.successful_state)
                between[pair] = None if pair in between else step.key  # two steps: unknown
            self._targets[name], self._steps[name] = targets, between

    def row(
        self, case: Mapping[str, Any], event: Mapping[str, Any], where: Where
    ) -> dict[str, Any] | None:
        """The history row of ``event`` (None: its workflow is not imported; counted).

        Raises:
            EventLogError: the event cannot be a history row (WF401, at ``where``).
        """
        try:
            return self._row(case, event)
        except (ValueError, TypeError, KeyError, OverflowError) as exc:
            why = str(exc)
        except RecursionError:
            why = "metadata nested too deeply"
        position = describe(where, self.unit)
        raise EventLogError(f"{position}: {why}", position=position) from None

    def _pick(self, key: str, case: Mapping[str, Any], event: Mapping[str, Any]) -> Any:
        return event[key] if key in event else case.get(key)

    def _row(self, case: Mapping[str, Any], event: Mapping[str, Any]) -> dict[str, Any] | None:
        name = case.get("wfnb:workflow") or self.default
        if name is None:
            raise ValueError("the case names no workflow (wfnb:workflow); import one at a time")
        if name not in self.workflows:
            self.skipped[name] = self.skipped.get(name, 0) + 1
            return None
        # The case's own attribute; an event's only when it is not the activity's key too
        # (a table's case column), so an XES trace without a name is an error, not a case
        # named after its first activity.
        key_name = self.mapping.case
        named = case.get(key_name)
        if named is None and key_name != self.mapping.activity:
            named = event.get(key_name)
        entity_id = _text(case.get("wfnb:entity_id") or named, ID_LENGTH)
        if entity_id is None:
            raise ValueError(f"no case id ({self.mapping.case!r})")
        stamp = self._pick(self.mapping.timestamp, case, event)
        if stamp is None or stamp == "":
            raise ValueError(f"no timestamp ({self.mapping.timestamp!r})")
        key = (name, entity_id)
        state = self.cases.get(key)
        row = self._exact(event) if "wfnb:kind" in event else self._mapped(name, state, case, event)
        wf = self.workflows[name]
        row.update(
            workflow=name,
            entity_table=case.get("wfnb:entity_table") or wf.entity.table,
            entity_id=entity_id,
            changed_at=parse_time(stamp),
        )
        if row["to_status"] is None:
            raise ValueError("no status to enter (empty activity)")
        if state is None:
            state = self.cases[key] = [None, 0, None, None, None]
        state[0], state[1] = row["to_status"], state[1] + 1
        state[2], state[3] = row["entity_version"], row["tenant_id"]
        if case.get("wfnb:entity_status"):  # kept small: memory grows with cases, not events
            state[4] = (
                str(case["wfnb:entity_status"]),
                _number(case.get("wfnb:entity_version"), int),
                _text(case.get("wfnb:entity_tenant")),
            )
        return row

    def _exact(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """A row wfnb exported: every column is in the event."""
        row: dict[str, Any] = {}
        for column in (
            "kind", "step_key", "from_status", "to_status", "requester_type", "user_id",
            "tenant_id", "correlation_id", "source", "config_hash", "config_rev",
        ):  # fmt: skip
            key = PREFIX + column
            row[column] = _text(event.get(key), ID_LENGTH if key in _LONG else NAME_LENGTH)
        if row["kind"] not in KINDS:
            raise ValueError(f"unknown kind {row['kind']!r}")
        meta = event.get("wfnb:metadata")
        row["metadata"] = json.loads(meta) if isinstance(meta, str) and meta else (meta or {})
        if not isinstance(row["metadata"], dict):
            raise ValueError("wfnb:metadata is not a JSON object")  # noqa: TRY004  # a bad value
        row["duration_ms"] = _number(event.get("wfnb:duration_ms"), float)
        row["entity_version"] = _number(event.get("wfnb:entity_version"), int)
        row["config_hash"] = row["config_hash"] or ""
        return row

    def _mapped(
        self, name: str, state: list[Any] | None, case: Mapping[str, Any], event: Mapping[str, Any]
    ) -> dict[str, Any]:
        """A foreign row: statuses and steps derived from the workflow (module docstring)."""
        m, wf = self.mapping, self.workflows[name]
        value = _text(self._pick(m.activity, case, event))
        if value is None:
            raise ValueError(f"no activity ({m.activity!r})")
        value = m.renames.get(value, value)
        before = state[0] if state is not None else None
        if m.activity_is == "step":
            step: str | None = value
            targets = self._targets[name]
            to = targets.get((value, before)) or targets.get((value, None))
            if to is None:
                raise ValueError(f"{value!r} is not a step of {name!r} (activity_is: step)")
        else:
            to, step = value, self._steps[name].get((before, value)) if before else None
        role = _text(self._pick(m.role, case, event)) or m.requester
        if role is None and step is not None:
            allowed = next((s.requester_types for s in wf.steps if s.key == step), None)
            role = allowed[0] if allowed and len(allowed) == 1 else None
        return {
            "kind": "initiated" if step is not None else "observed",
            "step_key": step,
            "from_status": before,
            "to_status": to,
            "requester_type": role,
            "user_id": _text(self._pick(m.resource, case, event), ID_LENGTH),
            "tenant_id": None,
            "correlation_id": None,
            "source": m.source,
            "config_hash": wf.config_hash,
            "config_rev": wf.config_rev,
            "metadata": {},
            "duration_ms": None,
            "entity_version": (state[1] if state is not None else 0) + 1,
        }

    def entity_states(self) -> Iterable[tuple[str, dict[str, tuple[str, int | None, str | None]]]]:
        """Per workflow, ``{entity id: (status, version, tenant)}`` at each case's end.

        A case that carries the entity's own state (``wfnb:entity_status``) keeps it: the
        entity may have been moved outside the engine after its last row.
        """
        by_workflow: dict[str, dict[str, tuple[str, int | None, str | None]]] = {}
        for (name, entity_id), (last, rows, last_version, last_tenant, own) in self.cases.items():
            status, version, tenant = own or (last, last_version, last_tenant)
            by_workflow.setdefault(name, {})[entity_id] = (
                status,
                rows if version is None else version,
                tenant,
            )
        return by_workflow.items()


def _number(value: Any, kind: type[int] | type[float]) -> Any:
    if value is None or value == "":
        return None
    if kind is int and isinstance(value, float) and not value.is_integer():
        raise ValueError(f"not a whole number: {value!r}")
    number = kind(value)
    if kind is int and not -(2**31) <= number < 2**31:  # an INTEGER column, both dialects
        raise ValueError(f"whole number out of range: {str(value)[:40]!r}")
    if kind is float and not math.isfinite(number):
        raise ValueError(f"not a finite number: {str(value)[:40]!r}")
    return number

"""The attributes of an exported event and case, and the value conversions both ways.

A history row becomes one event: the standard XES keys (``concept:name``,
``time:timestamp``, ``lifecycle:transition``, ``org:resource``, ``org:role``) and every
history column under the ``wfnb:`` prefix, so an exported log imports back exactly. An
entity becomes one case: ``concept:name`` plus ``wfnb:workflow``, ``wfnb:entity_table``,
``wfnb:entity_id`` and the entity's current ``wfnb:entity_status`` / ``_version`` /
``_tenant`` (which may differ from the last row: an entity moved outside the engine).
Every format (XES, OCEL, CSV, Parquet) carries these same keys. See ADR 0120.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Literal

__all__ = [
    "ACTIVITIES",
    "CASE_KEYS",
    "EVENT_KEYS",
    "FLOAT_KEYS",
    "INT_KEYS",
    "PREFIX",
    "Activity",
    "case_attributes",
    "event_attributes",
    "parse_time",
    "utc",
]

PREFIX = "wfnb:"
Activity = Literal["status", "step"]
ACTIVITIES: tuple[str, ...] = ("status", "step")
"""What ``concept:name`` holds: the status entered (default) or the step's key."""

_ROW_KEYS = (
    "kind", "step_key", "from_status", "to_status", "requester_type", "user_id", "tenant_id",
    "correlation_id", "source", "config_hash", "config_rev", "metadata", "duration_ms",
    "entity_version",
)  # fmt: skip
EVENT_KEYS: tuple[str, ...] = (
    "concept:name",
    "time:timestamp",
    "lifecycle:transition",
    "org:resource",
    "org:role",
    *(PREFIX + k for k in _ROW_KEYS),
)
"""Every key an exported event may carry, in the order written."""

CASE_KEYS: tuple[str, ...] = (
    "concept:name",
    *(
        PREFIX + k
        for k in (
            "workflow", "entity_table", "entity_id", "entity_status", "entity_version",
            "entity_tenant",
        )
    ),
)  # fmt: skip
"""Every key an exported case (trace) may carry."""

INT_KEYS = frozenset({"wfnb:entity_version"})
FLOAT_KEYS = frozenset({"wfnb:duration_ms"})

_LIFECYCLE = {"claimed": "start"}
"""``lifecycle:transition`` per kind: a claim starts work; every other row completes it."""


def utc(value: datetime) -> datetime:
    """``value`` in UTC; a naive value (SQLite hands them back) is taken as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def parse_time(value: Any) -> datetime:
    """A timestamp from a log (a datetime or ISO 8601 text, with or without offset) in UTC.

    Raises:
        ValueError: not a datetime or ISO 8601 text (the readers report it at a position).
    """
    try:
        if isinstance(value, datetime):
            return utc(value)
        if hasattr(value, "to_pydatetime"):  # a pandas Timestamp
            return utc(value.to_pydatetime())
    except OverflowError:
        raise ValueError(f"timestamp out of range in UTC: {value!r}") from None
    if not isinstance(value, str):
        raise ValueError(f"not a timestamp: {value!r}")  # noqa: TRY004  # one error kind for readers
    text = value.strip()
    if " " in text and "T" not in text:
        text = text.replace(" ", "T", 1)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:  # quote the value as written, not the T-joined text
        raise ValueError(f"not an ISO 8601 timestamp: {value[:80]!r}") from None
    try:
        return utc(parsed)
    except OverflowError:  # year 1 with a positive offset, year 9999 with a negative one
        raise ValueError(f"timestamp out of range in UTC: {value!r}") from None


def case_attributes(
    workflow: str,
    entity_table: str,
    entity_id: str,
    state: tuple[Any, Any, Any] | None,
    *,
    qualified: bool,
) -> dict[str, Any]:
    """The attributes of one case; ``qualified``: its name is ``workflow:entity_id``."""
    attrs: dict[str, Any] = {
        "concept:name": f"{workflow}:{entity_id}" if qualified else entity_id,
        "wfnb:workflow": workflow,
        "wfnb:entity_table": entity_table,
        "wfnb:entity_id": entity_id,
    }
    if state is not None:
        status, version, tenant = state
        attrs["wfnb:entity_status"] = status
        if version is not None:
            attrs["wfnb:entity_version"] = int(version)
        if tenant is not None:
            attrs["wfnb:entity_tenant"] = str(tenant)
    return attrs


def event_attributes(row: dict[str, Any], activity: Activity) -> dict[str, Any]:
    """One history row as an event's attributes (None values are left out)."""
    name = row["to_status"] if activity == "status" else (row["step_key"] or row["to_status"])
    attrs: dict[str, Any] = {
        "concept:name": name,
        "time:timestamp": utc(row["changed_at"]),
        "lifecycle:transition": _LIFECYCLE.get(row["kind"], "complete"),
    }
    resource = row["user_id"] or row["requester_type"]
    if resource is not None:
        attrs["org:resource"] = resource
    if row["requester_type"] is not None:
        attrs["org:role"] = row["requester_type"]
    for key in _ROW_KEYS:
        value = row[key]
        if value is None:
            continue
        if key == "metadata":
            value = json.dumps(value, ensure_ascii=False)
        attrs[PREFIX + key] = value
    return attrs

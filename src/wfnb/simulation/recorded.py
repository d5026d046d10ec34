"""A recorded history read back as requests: what callers asked, and what came of it.

A *request* is the first history row of a correlation id for an entity (a creation, a
step, an observation). The rows the same call wrote after it (a claim's completion, an
auto-advanced step) follow it with the same correlation id at the same moment; timers
reuse the arming call's correlation id later, so they never start a request. A
simulation keeps each request's payload in ``metadata["request"]`` (ADR 0080); other
histories replay with empty payloads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from wfnb.simulation.recording import REQUEST_KEY
from wfnb.store import simulation as sim_sql

__all__ = ["Recorded", "Request", "TimerRow", "read_recorded"]

SAME_CALL = timedelta(seconds=1)
"""Rows of one call are written within this of its first row (a virtual clock: 0)."""


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.utcoffset() is None else moment.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Request:
    """One recorded call on one entity and the rows it wrote."""

    at: datetime
    row_id: int
    kind: str
    step_key: str | None
    requester_type: str | None
    user_id: str | None
    source: str | None
    to_status: str
    tenant_id: str | None
    correlation_id: str | None
    data: Mapping[str, Any]
    values: Mapping[str, Any] | None
    outcome_kinds: tuple[str, ...]
    final_status: str

    @property
    def is_creation(self) -> bool:
        """The entity was recorded as created here (``Engine.created``)."""
        return self.values is not None or (self.kind == "initiated" and self.step_key is None)


@dataclass(frozen=True, slots=True)
class TimerRow:
    """A timer that moved the entity in the recorded history."""

    at: datetime
    step_key: str | None
    to_status: str


@dataclass
class Recorded:
    """An entity's recorded requests and timer rows, in order."""

    workflow: str
    entity_id: str
    requests: list[Request]
    timers: list[TimerRow]

    @property
    def final_status(self) -> str | None:
        """Where the recorded history left the entity."""
        return self.requests[-1].final_status if self.requests else None


def _request(first: Mapping[str, Any], rows: Sequence[Mapping[str, Any]]) -> Request:
    metadata = dict(first["metadata"] or {})
    request = metadata.pop(REQUEST_KEY, None) or {}
    data = metadata if first["kind"] == "observed" else request.get("data") or {}
    return Request(
        at=_utc(first["changed_at"]),
        row_id=int(first["id"]),
        kind=str(first["kind"]),
        step_key=first["step_key"],
        requester_type=first["requester_type"],
        user_id=first.get("user_id"),
        source=first["source"],
        to_status=str(first["to_status"]),
        tenant_id=first["tenant_id"],
        correlation_id=first["correlation_id"],
        data=dict(data),
        values=request.get("values"),
        outcome_kinds=tuple(str(r["kind"]) for r in rows),
        final_status=str(rows[-1]["to_status"]),
    )


def _entity(workflow: str, entity_id: str, rows: Sequence[Mapping[str, Any]]) -> Recorded:
    requests: list[Request] = []
    timers: list[TimerRow] = []
    seen: set[str | None] = set()
    i = 0
    while i < len(rows):
        first = rows[i]
        if first["kind"] == "timer":
            timers.append(
                TimerRow(_utc(first["changed_at"]), first["step_key"], first["to_status"])
            )
        if first["kind"] in {"timer", "janitor", "released"} or first["correlation_id"] in seen:
            i += 1
            continue
        seen.add(first["correlation_id"])
        j = i + 1
        start = _utc(first["changed_at"])
        while (
            j < len(rows)
            and rows[j]["correlation_id"] == first["correlation_id"]
            and rows[j]["kind"] != "timer"
            and _utc(rows[j]["changed_at"]) - start <= SAME_CALL
        ):
            j += 1
        requests.append(_request(first, rows[i:j]))
        i = j
    return Recorded(workflow, entity_id, requests, timers)


def read_recorded(
    db: sa.Engine,
    workflows: Sequence[str],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    entities: Sequence[str] | None = None,
) -> list[Recorded]:
    """The recorded requests of every entity of ``workflows`` first seen at/after ``since``.

    Each entity is read from its first row (it is replayed from its initial status) up to
    ``until``.
    """
    by_entity: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    with db.connect() as conn:
        for row in sim_sql.select_recorded_history(conn, workflows, until, entities):
            by_entity.setdefault((row["workflow"], row["entity_id"]), []).append(row)
    out = [_entity(w, e, rows) for (w, e), rows in by_entity.items()]
    if since is not None:
        out = [r for r in out if r.requests and r.requests[0].at >= _utc(since)]
    return [r for r in out if r.requests]

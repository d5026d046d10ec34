"""Simulated requests kept in the history: the payload of each call, for what-if replays.

The engine never writes a caller's payload to ``workflow_history`` (payloads may carry
personal data). A simulation's payloads are synthetic, so it keeps them: after a run,
the first history row each call wrote (per entity) gains ``metadata["request"]``. The
rows are found by the simulation's deterministic correlation ids, with one scan per
tenant and one batched UPDATE, so recording costs little per call (ADR 0080).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from wfnb.store import Store
from wfnb.store import simulation as sim_sql

__all__ = ["REQUEST_KEY", "RequestLog", "jsonable"]

REQUEST_KEY = "request"
"""The history metadata key a simulated call's payload is kept under."""


def jsonable(value: Any) -> Any:
    """``value`` with dates as ISO strings, so it fits a JSON column."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


@dataclass
class RequestLog:
    """The payloads of the calls a simulation made, waiting to be written to the history."""

    prefix: str
    pending: dict[str, dict[tuple[str, str], dict[str, Any]]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    tenants: set[str | None] = field(default_factory=set)

    def add(
        self,
        correlation_id: str,
        workflow: str,
        entity_id: str,
        tenant_id: str | None,
        request: Mapping[str, Any],
    ) -> None:
        """Remember what call ``correlation_id`` sent about one entity."""
        self.pending[correlation_id][workflow, entity_id] = jsonable(request)
        self.tenants.add(tenant_id)

    def flush(self, store: Store) -> int:
        """Write the pending payloads into their calls' first history rows; returns how many."""
        written = 0
        for tenant in sorted(self.tenants, key=lambda t: t or ""):
            with store.transaction(tenant) as conn:
                updates = self._updates(conn, tenant)
                sim_sql.attach_request_metadata(conn, updates)
                written += len(updates)
        self.pending.clear()
        self.tenants.clear()
        return written

    def _updates(self, conn: sa.Connection, tenant: str | None) -> list[dict[str, Any]]:
        rows = sim_sql.select_tagged_history(conn, self.prefix, tenant)
        seen: set[tuple[str, str, str]] = set()
        updates = []
        for row in rows:
            key = (row.correlation_id, row.workflow, row.entity_id)
            if key in seen:
                continue
            seen.add(key)
            request = self.pending.get(row.correlation_id, {}).get((row.workflow, row.entity_id))
            if request is None:
                continue
            metadata = {**(row.metadata or {}), REQUEST_KEY: request}
            updates.append({"row_id": row.id, "row_metadata": metadata})
        return updates

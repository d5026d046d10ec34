"""The history heat: how many ``workflow_history`` rows each drawn edge stands for.

One ``GROUP BY kind, from_status, to_status, step_key, requester_type, source`` per
workflow (:func:`wfnb.store.audit.count_moves`) gives :class:`HistoryKey` counts; each
group lands on the one edge of :func:`wfnb.analysis.graph` whose ``moves`` hold it (see
:func:`wfnb.analysis.overlay.count_edges`). ``%wfnb graph --heat``, ``WorkflowExplorer``,
the report and :func:`wfnb.plots.edge_counts` all go through :func:`history_counts`, so
they show the same numbers. See docs/adr/0034.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from wfnb.analysis.graph import graph
from wfnb.analysis.overlay import HistoryKey, count_edges, history_key
from wfnb.spec import Workflow
from wfnb.store import Store, audit

__all__ = ["EdgeHeat", "edge_heat", "history_counts"]

When = str | datetime | date | None


def _moment(value: When) -> datetime | None:
    from wfnb.frames.reading import moment  # noqa: PLC0415  # pandas only when filtering

    return moment(value)


def history_counts(
    db: sa.Engine | str | sa.URL,
    wf: Workflow | str,
    *,
    since: When = None,
    until: When = None,
    tenant_id: str | None = None,
) -> dict[HistoryKey, int]:
    """Rows per :class:`HistoryKey` of one workflow's history (creations included).

    Args:
        db: a SQLAlchemy Engine or URL.
        wf: the workflow (or its name).
        since: only rows with ``changed_at >= since`` (ISO text or a datetime).
        until: only rows with ``changed_at < until``.
        tenant_id: only this tenant's rows.

    Raises:
        StoreError: the history cannot be read.
    """
    name = wf.name if isinstance(wf, Workflow) else wf
    lower, upper = _moment(since), _moment(until)
    store = Store(db)
    try:
        with store.transaction(tenant_id, readonly=True) as conn:
            rows = audit.count_moves(conn, name, since=lower, until=upper, tenant_id=tenant_id)
    finally:
        store.dispose()
    out: dict[HistoryKey, int] = {}
    for *fields, n in rows:
        key = history_key(*fields)
        out[key] = out.get(key, 0) + int(n)
    return out


@dataclass(frozen=True, slots=True)
class EdgeHeat:
    """The drawn numbers: rows per declared edge, and the undeclared rows.

    Attributes:
        edges: ``(from, to, edge key) → rows`` for every edge of :func:`graph` (0 when
            never taken).
        undeclared: ``(from, to) → rows`` no declared edge stands for.
        creations: rows that created an entity (no ``from_status``; no edge).
    """

    edges: dict[tuple[str, str, str], int]
    undeclared: dict[tuple[str, str], int]
    creations: int

    @property
    def total(self) -> int:
        """Every row counted: on edges, undeclared and creations."""
        return sum(self.edges.values()) + sum(self.undeclared.values()) + self.creations


def edge_heat(counts: dict[HistoryKey, int], wf: Workflow) -> EdgeHeat:
    """What the heat diagram of ``wf`` draws for ``counts`` (see :func:`history_counts`)."""
    edges: list[tuple[str, str, str, dict[str, Any]]] = list(graph(wf).edges(keys=True, data=True))
    taken, stray = count_edges(counts, edges)
    every = {(u, v, k): taken.get((u, v, k), 0) for u, v, k, _ in edges}
    born = sum(n for key, n in counts.items() if key.from_status is None)
    return EdgeHeat(every, stray, born)

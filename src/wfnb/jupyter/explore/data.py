"""What the explorer shows on a click or hover, read on demand: panels as HTML, edges as dicts.

Every number comes from one SQL statement of :mod:`wfnb.store` (counts are ``count(*)``
of the same statement the page reads), or from the readers the rest of the toolkit uses:
:func:`wfnb.analysis.heat.history_counts`, :func:`wfnb.analysis.discovery.discover`,
:func:`wfnb.frames.history` and :func:`wfnb.analysis.conformance.conformance`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Any

import sqlalchemy as sa

from wfnb.frames.display import duration_text, html_table
from wfnb.spec import Workflow, Workflows

__all__ = ["AGE_BUCKETS", "ExplorerData", "edge_id"]

AGE_BUCKETS: tuple[tuple[str, float], ...] = (
    ("< 1 h", 3600.0),
    ("1 h \u2013 1 d", 86400.0),
    ("1 \u2013 7 d", 7 * 86400.0),
    ("7 \u2013 30 d", 30 * 86400.0),
    ("30 \u2013 90 d", 90 * 86400.0),
    ("≥ 90 d", float("inf")),
)
"""How long the entities at a status have been there: the distribution's buckets."""


def edge_id(source: str, target: str) -> str:
    """The key of a drawn edge between two statuses (the SVG's ``data-edge``)."""
    return f"{source}\u2192{target}"


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _histogram(ages: list[float]) -> str:
    counts = [0] * len(AGE_BUCKETS)
    for age in ages:
        counts[next(i for i, (_, top) in enumerate(AGE_BUCKETS) if age < top)] += 1
    top = max(counts) or 1
    bars = "".join(
        f"<div class='wfnb-bar'><span class='wfnb-bar-label'>{escape(label)}</span>"
        f"<span class='wfnb-bar-fill' style='width:{120 * n / top:.0f}px'></span>"
        f"<span class='wfnb-bar-n'>{n:,}</span></div>"
        for (label, _), n in zip(AGE_BUCKETS, counts, strict=True)
    )
    return f"<div class='wfnb-dwell'><b>Time at this status so far</b>{bars}</div>"


class ExplorerData:
    """The explorer's reads over one database and the loaded workflows (cached per view)."""

    def __init__(self, db: sa.Engine, wfs: Workflows) -> None:
        self.db, self.wfs = db, wfs
        self._edges: dict[tuple[str, str | None], dict[str, dict[str, Any]]] = {}
        self._report: Any = None

    def tenants(self, wf: Workflow) -> list[str]:
        """The tenant ids the workflow's history holds."""
        from wfnb.frames.reading import connect  # noqa: PLC0415
        from wfnb.store.explorer import select_tenants  # noqa: PLC0415

        with connect(self.db) as conn:
            return [str(t) for (t,) in conn.execute(select_tenants(wf.name))]

    def at_status(  # the panel's controls
        self,
        wf: Workflow,
        status: str,
        *,
        search: str = "",
        page: int = 0,
        size: int = 20,
        tenant: str | None = None,
    ) -> dict[str, Any]:
        """The entities at ``status`` now: ``total`` (SQL count), one page, and their ages."""
        from wfnb.frames.reading import connect  # noqa: PLC0415
        from wfnb.store import queries  # noqa: PLC0415
        from wfnb.store.explorer import select_at_status  # noqa: PLC0415
        from wfnb.store.reads import count_rows  # noqa: PLC0415

        spec = wf.entity
        with connect(self.db, tenant) as conn:
            table = queries.reflect_entity_table(conn, spec.table)
            pair = (spec.tenant_column, tenant) if spec.tenant_column and tenant else None
            stmt = select_at_status(
                table, id_column=spec.id_column, status_column=spec.status_column,
                status=status, workflow=wf.name, tenant=pair, search=search.strip(),
            )  # fmt: skip
            total = int(conn.execute(count_rows(stmt)).scalar_one())
            rows = list(conn.execute(stmt.limit(size).offset(page * size)))
            entered = [r.entered_at for r in conn.execute(stmt) if r.entered_at is not None]
        now = datetime.now(UTC)
        ages = [(now - _aware(e)).total_seconds() for e in entered]
        return {"total": total, "rows": rows, "ages": ages, "page": page, "size": size}

    def status_html(self, wf: Workflow, status: str, **kw: Any) -> tuple[str, int]:
        """The status panel: a page of entities (id, since when, for how long), the dwell."""
        got = self.at_status(wf, status, **kw)
        now = datetime.now(UTC)
        rows = [
            [
                r.entity_id,
                _aware(r.entered_at) if r.entered_at else None,
                duration_text(now - _aware(r.entered_at)) if r.entered_at else "—",
            ]
            for r in got["rows"]
        ]
        total, first = got["total"], got["page"] * got["size"]
        shown = (
            f"{first + 1:,}\u2013{first + len(rows):,} of {total:,}" if rows else f"0 of {total:,}"
        )
        caption = f"entities at {status} now: {shown} · times in UTC"
        table = html_table(["entity", "entered", "there for"], rows, caption,
                           columns=["entity_id", "entered_at", "there_for"])  # fmt: skip
        head = f"<h4 class='wfnb-panel-title'>{escape(status)}: {total:,} entities now</h4>"
        return head + (table if rows else f"<p>{escape(caption)}</p>") + _histogram(
            got["ages"]
        ), total

    def timeline_html(self, wf: Workflow, entity: str) -> str:
        """An entity's timeline with config versions and deviations (EntityTimeline's view)."""
        from wfnb import frames  # noqa: PLC0415
        from wfnb.jupyter.widgets import timeline_html  # noqa: PLC0415

        rows = frames.history(self.db, wf.name, entity, progress=False, newest_first=False)
        devs = self.deviations()
        mine = devs[(devs["workflow"] == wf.name) & (devs["entity_id"] == entity)]
        hashes = {n: w.config_hash for n, w in self.wfs.items()}
        head = f"<h4 class='wfnb-panel-title'>{escape(wf.name)} {escape(entity)}</h4>"
        return head + timeline_html(rows, mine, hashes)

    def deviations(self) -> Any:
        """Conformance deviations of the loaded workflows' history (computed once)."""
        if self._report is None:
            from wfnb.analysis.conformance import conformance  # noqa: PLC0415

            self._report = conformance(self.db, self.wfs)
        return self._report.deviations

    def edges(self, wf: Workflow, tenant: str | None = None) -> dict[str, dict[str, Any]]:
        """Per drawn edge (``edge_id``): count, median, p90, steps, use cases, requesters."""
        key = (wf.name, tenant)
        if key not in self._edges:
            self._edges[key] = self._edge_info(wf, tenant)
        return self._edges[key]

    def _edge_info(self, wf: Workflow, tenant: str | None) -> dict[str, dict[str, Any]]:
        from wfnb.analysis.discovery import discover  # noqa: PLC0415
        from wfnb.analysis.graph import graph  # noqa: PLC0415

        out: dict[str, dict[str, Any]] = {}
        for u, v, data in graph(wf).edges(data=True):
            info = out.setdefault(edge_id(u, v), _blank(u, v))
            info["steps"] |= {s for s in data.get("steps", ()) if s}
            info["use_cases"] |= {c for c in data.get("use_cases", ()) if c}
            info["requesters"] |= set(data.get("requester_types") or ())
            info["kinds"].add(str(data.get("kind")))
        taken = discover(self.db, workflow=wf.name, tenant_id=tenant).edges
        for r in taken.to_dict("records"):
            u, v = str(r["from_status"]), str(r["to_status"])
            info = out.setdefault(edge_id(u, v), _blank(u, v))
            info.update(
                count=int(r["count"]),
                median=duration_text(r["median"]),
                p90=duration_text(r["p90"]),
            )
        return {
            k: {n: sorted(x) if isinstance(x, set) else x for n, x in v.items()}
            for k, v in out.items()
        }


def _blank(u: str, v: str) -> dict[str, Any]:
    return {
        "from": u, "to": v, "count": 0, "median": "—", "p90": "—",
        "steps": set(), "use_cases": set(), "requesters": set(), "kinds": set(),
    }  # fmt: skip

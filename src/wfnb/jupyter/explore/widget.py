"""``Explorer``: the interactive diagram (anywidget): pan, zoom, click, hover, overlays.

The SVG is laid out server-side by graphviz (:mod:`wfnb.jupyter.explore.svg`) and held in
the ``svg`` trait, so a saved notebook keeps the view. The front end (static/explorer.js,
plain ES module, no build step) pans and zooms by rewriting the SVG's ``viewBox``; a click
asks Python for a panel through a custom message (``model.send``), so only the page asked
for crosses the wire. Hover data (``edges``, one dict per drawn edge) is a trait the page
asks to fill once the drawing is shown: the first paint does not wait for its numbers.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

import anywidget
import sqlalchemy as sa
import traitlets

from wfnb.exceptions import WfnbUsageError
from wfnb.jupyter.explore.data import ExplorerData
from wfnb.jupyter.explore.svg import OVERLAYS, annotate, edge_diff
from wfnb.jupyter.oneline import coded_line
from wfnb.spec import Workflow, Workflows

__all__ = ["Explorer"]

_STATIC = Path(__file__).with_name("static")
PAGE_SIZE = 20


class Explorer(anywidget.AnyWidget):
    """Click through a workflow: its statuses' entities, an entity's timeline, edge stats.

    Args:
        db: a SQLAlchemy Engine (or URL) holding the history and entity tables.
        wfs: the loaded workflows.
        workflow: the one to open (default: the first by name).
        tenant: open filtered to this tenant.
        direction: the drawing's direction (``LR``, ``TB``...).
    """

    _esm = _STATIC / "explorer.js"
    _css = _STATIC / "explorer.css"

    workflow = traitlets.Unicode("").tag(sync=True)
    workflows = traitlets.List(traitlets.Unicode()).tag(sync=True)
    overlay = traitlets.Unicode("none").tag(sync=True)
    requester = traitlets.Unicode("").tag(sync=True)
    requesters = traitlets.List(traitlets.Unicode()).tag(sync=True)
    tenant = traitlets.Unicode("").tag(sync=True)
    tenants = traitlets.List(traitlets.Unicode()).tag(sync=True)
    rev_old = traitlets.Unicode("").tag(sync=True)
    rev_new = traitlets.Unicode("").tag(sync=True)
    svg = traitlets.Unicode("").tag(sync=True)
    edges = traitlets.Dict().tag(sync=True)
    note = traitlets.Unicode("").tag(sync=True)
    message = traitlets.Unicode("").tag(sync=True)

    def __init__(
        self,
        db: sa.Engine | str,
        wfs: Workflows,
        workflow: str | None = None,
        *,
        tenant: str | None = None,
        direction: str = "LR",
    ) -> None:
        engine = sa.create_engine(db) if isinstance(db, str) else db
        names = sorted(wfs)
        if not names:
            raise WfnbUsageError("no workflow is loaded: load one before exploring")
        if workflow is not None and workflow not in wfs:
            raise WfnbUsageError(f"no workflow {workflow!r} is loaded (loaded: {', '.join(names)})")
        self.data, self.wfs, self.direction = ExplorerData(engine, wfs), wfs, direction
        super().__init__(workflows=names, tenant=tenant or "")
        self.observe(self._redraw, names=["workflow", "overlay", "requester", "tenant"])
        self.observe(self._redraw, names=["rev_old", "rev_new"])
        self.on_msg(self._on_message)
        self.workflow = workflow or names[0]
        if not self.svg:
            self._redraw(None)

    @property
    def current(self) -> Workflow:
        """The workflow drawn."""
        return self.wfs[self.workflow]

    def _redraw(self, _change: Any) -> None:
        try:
            self.message = ""
            wf = self.current
            self.requesters = list(wf.requester_types)
            self.tenants = self.data.tenants(wf)
            self.svg, self.note = self.draw()  # edge numbers follow, asked for by the page
        except Exception as exc:  # noqa: BLE001  # a widget shows one line, never a traceback
            self.message = coded_line(exc)

    def draw(self) -> tuple[str, str]:
        """The annotated SVG of the current view, and a line saying what it shows."""
        from wfnb.analysis import diagram  # noqa: PLC0415  # graphviz only when drawn

        wf, tenant, overlay = self.current, self.tenant or None, self.overlay
        if overlay not in OVERLAYS:
            raise WfnbUsageError(f"overlay must be one of {', '.join(OVERLAYS)}, got {overlay!r}")
        kw: dict[str, Any] = {"direction": self.direction}
        classes: dict[str, str] = {}
        who = f" ({tenant})" if tenant else ""
        note = f"{wf.name}: every declared edge"
        if overlay == "heat":
            from wfnb.analysis.heat import history_counts  # noqa: PLC0415

            kw["highlight"] = history_counts(self.data.db, wf, tenant_id=tenant)
            note = f"history heat{who}: edges by rows taken; grey: never taken"
        elif overlay == "deviations":
            from wfnb import frames  # noqa: PLC0415

            taken = frames.transition_counts(self.data.db, wf, tenant_id=tenant)
            kw["history_edges"] = {
                (str(r["from_status"]), str(r["to_status"])): int(r["count"])
                for r in taken.dropna(subset=["from_status"]).to_dict("records")
            }
            note = f"deviations{who}: red dashed edges were taken but are declared nowhere"
        elif overlay == "requester":
            if not self.requester:
                self.requester = wf.requester_types[0]
            kw["requester_type"] = self.requester
            note = f"what {self.requester} alone can trigger"
        elif overlay == "diff":
            old, new = self._versions(wf)
            changes = edge_diff(old, new)
            classes = changes.classes()
            removed = [tuple(e.split("\u2192")) for e in changes.removed]
            kw["history_edges"] = dict.fromkeys(removed, 1)
            wf = new
            revs = f"{self.rev_old or 'HEAD'} → {self.rev_new or 'work tree'}"
            note = f"{revs}: {changes.summary()} (green: added, red: removed, orange: changed)"
        d = diagram(wf, **kw)
        return annotate(d.svg(), d.ir, classes), note

    def _versions(self, wf: Workflow) -> tuple[Workflow, Workflow]:
        from wfnb.analysis.diff import load_version  # noqa: PLC0415

        path = wf.source_file
        if path is None:
            raise WfnbUsageError(f"workflow {wf.name!r} was not loaded from a file: no git history")
        old = load_version(path, self.rev_old or "HEAD")
        return old, load_version(path, self.rev_new or None)

    def _on_message(self, _widget: Any, content: dict[str, Any], _buffers: Any) -> None:
        kind, reply = content.get("kind"), {"kind": "panel", "id": content.get("id")}
        try:
            if kind == "status":
                html, total = self.data.status_html(
                    self.current,
                    str(content["status"]),
                    search=str(content.get("search") or ""),
                    page=max(0, int(content.get("page") or 0)),
                    size=PAGE_SIZE,
                    tenant=self.tenant or None,
                )
                reply |= {"html": html, "total": total, "size": PAGE_SIZE}
            elif kind == "edges":
                self.edges = self.data.edges(self.current, self.tenant or None)
                reply["kind"] = "edges"
            elif kind == "entity":
                reply["html"] = self.data.timeline_html(self.current, str(content["entity"]))
            else:
                reply["error"] = f"WF400: unknown explorer request {kind!r}"
        except Exception as exc:  # noqa: BLE001  # one coded line, never a traceback
            line = coded_line(exc)
            reply["error"] = line
            if kind == "edges":
                self.message = line
        self.send(reply)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """The widget view, and the same drawing as static HTML for saved notebooks."""
        from wfnb._html import diagram_viewer  # noqa: PLC0415
        from wfnb.analysis.render import LABEL_PT  # noqa: PLC0415

        bundle = super()._repr_mimebundle_(**kwargs)
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        if data is not None and self.svg:
            note = f"<p style='color:#555'>{escape(self.note)}</p>" if self.note else ""
            data["text/html"] = note + diagram_viewer(
                self.svg, label_pt=float(LABEL_PT), script=False
            )
        return bundle

"""The analyst's and engineer's widgets: entity timeline, step runner, failure browser.

Each is a small ipywidgets composition over the public API (``frames``, ``conformance``,
``dry_run``); a problem shows as one coded line in the widget, never a traceback.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Mapping
from html import escape
from typing import Any

import ipywidgets as widgets
import sqlalchemy as sa

from wfnb._html import table
from wfnb.exceptions import WfnbError
from wfnb.spec import Workflows

__all__ = ["EntityTimeline", "FailureBrowser", "StepRunner", "timeline_html"]

_ERROR = "<div style='color:#b00020'><b>{}</b></div>"


def _error(exc: Exception) -> str:
    line = exc.one_line() if isinstance(exc, WfnbError) else f"{type(exc).__name__}: {exc}"
    return _ERROR.format(escape(line))


def timeline_html(rows: Any, deviations: Any, hashes: Mapping[str, str]) -> str:
    """An entity's history as a timeline: when, what, who, which config, and any deviation."""
    flagged: dict[Any, list[str]] = {}
    for dev in deviations.itertuples():
        flagged.setdefault(dev.history_id, []).append(f"{dev.kind}: {dev.detail}")
    current = set(hashes.values())
    out = []
    for r in rows.itertuples():
        config = str(r.config_hash)[:12] + ("" if r.config_hash in current else " (old config)")
        flags = flagged.get(r.id, [])
        out.append(
            (
                str(r.changed_at),
                f"{r.from_status or '∅'} → {r.to_status}",
                r.kind,
                r.step_key,
                r.requester_type,
                config,
                "⚠ " + "; ".join(flags) if flags else "",
            )
        )
    headers = ["when", "transition", "kind", "step", "requester", "config", "deviation"]
    return table(headers, out) if out else "<p>No history for this entity.</p>"


class EntityTimeline(widgets.VBox):  # type: ignore[misc]  # ipywidgets is untyped
    """Pick a workflow and an entity; see its history with config versions and deviations."""

    def __init__(self, db: sa.Engine, wfs: Workflows) -> None:
        self.db, self.wfs = db, wfs
        self._report: Any = None
        self.workflow = widgets.Dropdown(options=sorted(wfs), description="Workflow")
        self.entity = widgets.Text(description="Entity", placeholder="entity id")
        self.show = widgets.Button(description="Show timeline")
        self.output = widgets.HTML()
        self.show.on_click(lambda _b: self.refresh())
        self.entity.observe(lambda _c: self.refresh(), names="value")
        super().__init__([widgets.HBox([self.workflow, self.entity, self.show]), self.output])

    def deviations(self) -> Any:
        """Conformance deviations of the whole history (computed once, then filtered)."""
        if self._report is None:
            from wfnb.analysis.conformance import conformance  # noqa: PLC0415

            self._report = conformance(self.db, self.wfs)
        return self._report.deviations

    def refresh(self) -> None:
        """Redraw for the selected entity."""
        from wfnb import frames  # noqa: PLC0415

        if not self.entity.value.strip():
            self.output.value = ""
            return
        try:
            name, entity = self.workflow.value, self.entity.value.strip()
            rows = frames.history(self.db, name, entity, progress=False)
            devs = self.deviations()
            mine = devs[(devs["workflow"] == name) & (devs["entity_id"] == entity)]
            hashes = {n: w.config_hash for n, w in self.wfs.items()}
            self.output.value = timeline_html(rows, mine, hashes)
        except WfnbError as exc:
            self.output.value = _error(exc)


class StepRunner(widgets.VBox):  # type: ignore[misc]
    """Entity, requester, step and a JSON payload → a dry-run's before/after diff.

    Runs in a sandbox: the source database is never written.
    """

    def __init__(
        self,
        db: sa.Engine,
        wfs: Workflows,
        use_cases: Mapping[str, Callable[..., Any]] | None = None,
    ) -> None:
        self.db, self.wfs, self.use_cases = db, wfs, dict(use_cases or {})
        self.last: Any = None
        self.workflow = widgets.Dropdown(options=sorted(wfs), description="Workflow")
        self.entity = widgets.Text(description="Entity")
        self.requester = widgets.Dropdown(description="Requester")
        self.step = widgets.Dropdown(description="Step")
        self.payload = widgets.Textarea(value="{}", description="Payload")
        self.run = widgets.Button(description="Dry-run", button_style="primary")
        self.output = widgets.HTML()
        self.workflow.observe(self._on_workflow, names="value")
        self.run.on_click(lambda _b: self.submit())
        form = [self.workflow, self.entity, self.requester, self.step, self.payload, self.run]
        super().__init__([*form, self.output])
        self._on_workflow(None)

    def _on_workflow(self, _change: Any) -> None:
        wf = self.wfs[self.workflow.value]
        self.requester.options = list(wf.requester_types)
        self.step.options = [("(the one that applies)", None)] + [(s.key, s.key) for s in wf.steps]

    def submit(self) -> None:
        """Run the dry-run and show its diff (or one coded line)."""
        from wfnb.sandbox import dry_run  # noqa: PLC0415

        try:
            data = json.loads(self.payload.value or "{}")
        except json.JSONDecodeError as exc:
            self.output.value = _ERROR.format(escape(f"WF208: payload is not JSON: {exc.msg}"))
            return
        try:
            self.last = dry_run(
                self.db,
                self.wfs,
                self.workflow.value,
                self.entity.value.strip(),
                self.requester.value,
                step=self.step.value,
                data=data,
                use_cases=self.use_cases,
            )
        except WfnbError as exc:
            self.output.value = _error(exc)
            return
        self.output.value = self.last._repr_html_()


class FailureBrowser(widgets.VBox):  # type: ignore[misc]
    """Failures filtered by workflow, code and time; pick one to see its entity's timeline."""

    def __init__(self, db: sa.Engine, wfs: Workflows) -> None:
        self.db, self.wfs = db, wfs
        self.frame: Any = None
        self.workflow = widgets.Dropdown(
            options=[("(all)", None)] + [(n, n) for n in sorted(wfs)], description="Workflow"
        )
        self.code = widgets.Text(description="Code", placeholder="e.g. hub_refused")
        self.since = widgets.Text(description="Since", placeholder="2026-06-01")
        self.apply = widgets.Button(description="Filter")
        self.table = widgets.HTML()
        self.pick = widgets.Dropdown(description="Drill into", options=[])
        self.timeline = EntityTimeline(db, wfs)
        self.apply.on_click(lambda _b: self.refresh())
        self.pick.observe(self._on_pick, names="value")
        filters = widgets.HBox([self.workflow, self.code, self.since, self.apply])
        super().__init__([filters, self.table, self.pick, self.timeline])
        self.refresh()

    def refresh(self) -> None:
        """Re-query the failure log with the current filters (in SQL)."""
        from wfnb import frames  # noqa: PLC0415
        from wfnb.jupyter.parser import moment  # noqa: PLC0415

        try:
            since = moment(self.since.value) if self.since.value.strip() else None
            self.frame = frames.failures(
                self.db,
                self.workflow.value,
                since=since,
                code=self.code.value.strip() or None,
                progress=False,
            )
        except (WfnbError, ValueError, argparse.ArgumentTypeError) as exc:
            self.table.value = _error(exc)
            return
        cols = ["failed_at", "workflow", "entity_id", "status", "step_key", "error_code"]
        rows = self.frame[cols].astype(str).itertuples(index=False)
        self.table.value = table([*cols[:-1], "code"], rows, f"{len(self.frame)} failure(s)")
        self.pick.options = [("", None)] + [
            (f"{r.workflow}:{r.entity_id}", (r.workflow, r.entity_id))
            for r in self.frame.itertuples()
        ]

    def _on_pick(self, change: Any) -> None:
        if change["new"] is None:
            return
        workflow, entity = change["new"]
        self.timeline.workflow.value = workflow
        self.timeline.entity.value = str(entity)

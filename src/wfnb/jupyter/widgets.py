"""The analyst's and engineer's widgets: entity timeline, step runner, failure browser.

Each is a small ipywidgets composition over the public API (``frames``, ``conformance``,
``dry_run``). Whatever goes wrong inside a widget shows as one coded line in it, never a
traceback (``coded_line``). Long tables page (``itables``' widget: its JavaScript ships in
the wheel, so it works offline); short ones are readable static tables.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from html import escape
from typing import Any

import ipywidgets as widgets
import pandas as pd
import sqlalchemy as sa

from wfnb.exceptions import WfnbError
from wfnb.frames.display import display_frame, html_cells, html_table, text_cells
from wfnb.jupyter.oneline import ERROR as _ERROR
from wfnb.jupyter.oneline import coded_line
from wfnb.jupyter.oneline import shows_errors_in as _shows_errors_in
from wfnb.spec import Workflow, Workflows

__all__ = ["EntityTimeline", "FailureBrowser", "StepRunner", "coded_line", "timeline_html"]

_NOTE = "<div style='color:#555'>{}</div>"


def timeline_html(rows: Any, deviations: Any, hashes: Mapping[str, str]) -> str:
    """An entity's history as a timeline: when, what, who, which config, and any deviation."""
    flagged: dict[Any, list[str]] = {}
    for dev in deviations.itertuples():
        flagged.setdefault(dev.history_id, []).append(f"{dev.kind}: {dev.detail}")
    current = set(hashes.values())
    out = []
    for r in rows.itertuples():
        flags = flagged.get(r.id, [])
        out.append(
            (
                r.changed_at,
                r.from_status,
                r.to_status,
                r.kind,
                r.step_key,
                r.requester_type,
                r.user_id,
                r.source,  # an observer; for a ``manual`` row, the database role
                r.config_hash,
                "" if r.config_hash in current else "old config",
                "⚠ " + "; ".join(flags) if flags else "",
            )
        )
    if not out:
        return "<p>No history for this entity.</p>"
    headers = [
        "changed_at", "from_status", "to_status", "kind", "step_key", "requester_type",
        "user_id", "source", "config_hash", "config", "deviation",
    ]  # fmt: skip
    shown = display_frame(pd.DataFrame(out, columns=headers).replace("", None))
    labels = {"changed_at": "when", "step_key": "step", "requester_type": "requester"}
    labels |= {"user_id": "user", "source": "source / role", "config_hash": "config", "config": ""}
    caption = f"{len(shown)} history row{'s' * (len(shown) != 1)} · times in UTC"
    names = list(shown.columns)
    rows = [[None if pd.isna(v) else v for v in r] for r in shown.itertuples(index=False)]
    return html_table([labels.get(c, c) for c in names], rows, caption, columns=names)


class EntityTimeline(widgets.VBox):  # type: ignore[misc]  # ipywidgets is untyped
    """Pick a workflow and an entity; see its history with users, configs and deviations."""

    def __init__(self, db: sa.Engine, wfs: Workflows) -> None:
        self.db, self.wfs = db, wfs
        self._report: Any = None
        self.workflow = widgets.Dropdown(options=sorted(wfs), description="Workflow")
        self.entity = widgets.Text(
            description="Entity", placeholder="entity id", continuous_update=False
        )
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

    @_shows_errors_in("output")
    def refresh(self) -> None:
        """Redraw for the selected entity (oldest row first: a timeline reads down in time)."""
        from wfnb import frames  # noqa: PLC0415

        if not self.entity.value.strip():
            self.output.value = ""
            return
        name, entity = self.workflow.value, self.entity.value.strip()
        rows = frames.history(self.db, name, entity, progress=False, newest_first=False)
        devs = self.deviations()
        mine = devs[(devs["workflow"] == name) & (devs["entity_id"] == entity)]
        hashes = {n: w.config_hash for n, w in self.wfs.items()}
        hashes |= {  # a tenant's rows carry its merged config's hash: current too
            f"{n} as {t}": c.config_hash
            for n, w in self.wfs.items()
            for t, c in w.tenant_configs.items()
        }
        self.output.value = timeline_html(rows, mine, hashes)


class StepRunner(widgets.VBox):  # type: ignore[misc]
    """Entity, requester, step and a JSON payload → a dry-run's before/after diff.

    Entering an entity reads its status and preselects what applies there: the requester
    types that have a step at that status, and the steps that requester may run. Runs in
    a sandbox: the source database is never written.
    """

    def __init__(
        self,
        db: sa.Engine,
        wfs: Workflows,
        use_cases: Mapping[str, Callable[..., Any]] | None = None,
    ) -> None:
        self.db, self.wfs, self.use_cases = db, wfs, dict(use_cases or {})
        self.last: Any = None
        self.status: str | None = None
        self._engine: Any = None
        self.workflow = widgets.Dropdown(options=sorted(wfs), description="Workflow")
        self.entity = widgets.Text(
            description="Entity", placeholder="entity id", continuous_update=False
        )
        self.requester = widgets.Dropdown(description="Requester")
        self.step = widgets.Dropdown(description="Step")
        self.payload = widgets.Textarea(value="{}", description="Payload")
        self.run = widgets.Button(description="Dry-run", button_style="primary")
        self.where = widgets.HTML()
        self.output = widgets.HTML()
        self.workflow.observe(lambda _c: self.locate(), names="value")
        self.entity.observe(lambda _c: self.locate(), names="value")
        self.requester.observe(lambda _c: self._offer_steps(), names="value")
        self.run.on_click(lambda _b: self.submit())
        form = [self.workflow, self.entity, self.where, self.requester, self.step, self.payload]
        super().__init__([*form, self.run, self.output])
        self.locate()

    @property
    def current(self) -> Workflow:
        """The selected workflow."""
        return self.wfs[self.workflow.value]

    def _status_of(self, entity: str) -> str:
        """The entity's status (a read through ``Engine.explain``; WF201 when missing)."""
        if self._engine is None:
            from wfnb.engine import Engine  # noqa: PLC0415

            self._engine = Engine(self.wfs, self.db)
        wf = self.current
        found = self._engine.explain(wf.name, entity, wf.requester_types[0])
        if found.status is None:
            raise found.error or WfnbError(f"no {wf.name} entity {entity!r}")
        return str(found.status)

    @_shows_errors_in("where")
    def locate(self) -> None:
        """Read the entity's status; offer the requesters and steps that apply there."""
        wf, entity = self.current, self.entity.value.strip()
        self.status = None
        self.where.value = ""
        if entity:
            self.status = self._status_of(entity)
        if self.status is None:
            self.requester.options = list(wf.requester_types)
        else:
            able = [rt for rt in wf.requester_types if wf.steps_for(self.status, rt)]
            self.requester.options = able or list(wf.requester_types)
            steps = "steps apply" if able else "no step applies"
            self.where.value = _NOTE.format(
                f"{escape(entity)} is at <b>{escape(self.status)}</b>: {steps} for "
                f"{escape(', '.join(able) or 'any requester')}"
            )
        self.requester.value = self.requester.options[0]
        self._offer_steps()

    def _offer_steps(self) -> None:
        wf, requester = self.current, self.requester.value
        if self.status is not None and requester is not None:
            keys = [s.key for s in wf.steps_for(self.status, requester)]
        else:
            keys = [s.key for s in wf.steps]
        self.step.options = keys or [s.key for s in wf.steps]
        self.step.value = self.step.options[0] if self.step.options else None

    @_shows_errors_in("output")
    def submit(self) -> None:
        """Run the dry-run and show its diff (or one coded line)."""
        from wfnb.sandbox import dry_run  # noqa: PLC0415

        try:
            data = json.loads(self.payload.value or "{}")
        except json.JSONDecodeError as exc:
            self.output.value = _ERROR.format(escape(f"WF208: payload is not JSON: {exc.msg}"))
            return
        if not isinstance(data, dict):
            self.output.value = _ERROR.format(escape("WF208: the payload is not a JSON object"))
            return
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
        self.output.value = self.last._repr_html_()


_FAILURE_COLUMNS = [
    "failed_at", "workflow", "entity_id", "status", "step_key", "error_code", "error_message",
    "user_id",
]  # fmt: skip


_MESSAGE = _FAILURE_COLUMNS.index("error_message")
_PAGER: dict[str, Any] = {
    "select": {"style": "single"},
    "selected_rows": [],
    "showIndex": False,
    "maxBytes": 0,
    "pageLength": 10,
    "lengthMenu": [10, 25, 100],
    "order": [],
    "scrollX": True,
    "classes": "display cell-border",
    "style": "width:100%;margin:0;font-size:88%",
    "columnDefs": [
        {
            "targets": [i for i in range(len(_FAILURE_COLUMNS)) if i != _MESSAGE],
            "className": "dt-nowrap",
        },
    ],
    "allow_html": True,  # the cells are escaped HTML (html_cells): a message wraps, hovers
}
"""The failure table's options, given again on every update (itables drops columnDefs)."""


class FailureBrowser(widgets.VBox):  # type: ignore[misc]
    """Failures filtered by workflow, code, user and time, paged; select one for its timeline."""

    def __init__(self, db: sa.Engine, wfs: Workflows) -> None:
        from itables.widget import ITable  # noqa: PLC0415  # the jupyter extra

        self.db, self.wfs = db, wfs
        self.frame: Any = None
        narrow = widgets.Layout(width="210px")
        self.workflow = widgets.Dropdown(
            options=[("(all)", "")] + [(n, n) for n in sorted(wfs)],
            description="Workflow",
            layout=widgets.Layout(width="260px"),
        )
        self.code = widgets.Text(description="Code", placeholder="e.g. hub_refused", layout=narrow)
        self.user = widgets.Text(description="User", placeholder="user id", layout=narrow)
        self.since = widgets.Text(description="Since", placeholder="2026-06-01", layout=narrow)
        self.apply = widgets.Button(description="Filter", layout=widgets.Layout(width="80px"))
        self.summary = widgets.HTML()
        self.table = ITable(pd.DataFrame({c: [] for c in _FAILURE_COLUMNS}), **_PAGER)
        self.timeline = EntityTimeline(db, wfs)
        self.apply.on_click(lambda _b: self.refresh())
        self.table.observe(self._on_select, names="selected_rows")
        filters = widgets.HBox([self.workflow, self.code, self.user, self.since, self.apply])
        hint = widgets.HTML(_NOTE.format("select a row to see its entity's timeline below"))
        super().__init__([filters, self.summary, self.table, hint, self.timeline])
        self.refresh()

    @_shows_errors_in("summary")
    def refresh(self) -> None:
        """Re-query the failure log with the current filters (in SQL), newest first."""
        from wfnb import frames  # noqa: PLC0415
        from wfnb.jupyter.parser import moment  # noqa: PLC0415

        since = moment(self.since.value.strip()) if self.since.value.strip() else None
        self.frame = frames.failures(
            self.db,
            self.workflow.value or None,
            since=since,
            code=self.code.value.strip() or None,
            user=self.user.value.strip() or None,
            progress=False,
        )
        n = len(self.frame)
        self.summary.value = (
            f"<b>{n:,} failure{'s' * (n != 1)}</b> <span style='color:#555'>· newest first"
            " · times in UTC</span>"
        )
        cells = html_cells(self.frame[_FAILURE_COLUMNS])
        self.table.update(cells, **_PAGER)

    def rows(self) -> list[list[str]]:
        """What the table shows, row by row (readable text; for tests and exports)."""
        return [list(map(str, r)) for r in text_cells(self.frame[_FAILURE_COLUMNS]).values.tolist()]

    def drill(self, workflow: str, entity_id: str) -> None:
        """Show this entity's timeline under the table."""
        self.timeline.workflow.value = workflow
        self.timeline.entity.value = str(entity_id)
        self.timeline.refresh()

    @_shows_errors_in("summary")
    def _on_select(self, change: Any) -> None:
        picked = change["new"]
        if picked and self.frame is not None and picked[0] < len(self.frame):
            row = self.frame.iloc[picked[0]]
            self.drill(str(row["workflow"]), str(row["entity_id"]))

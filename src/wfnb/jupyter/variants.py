"""``VariantBrowser``: the variants of a history, paged, filtered by workflow and time.

A small ipywidgets composition over :func:`wfnb.frames.variants` (traces counted in SQL).
The table pages (itables' widget, offline); selecting a variant shows its statuses in
order. Whatever goes wrong shows as one coded line in the
widget, never a traceback.
"""

from __future__ import annotations

from html import escape
from typing import Any

import ipywidgets as widgets
import pandas as pd
import sqlalchemy as sa

from wfnb.frames.display import html_cells, text_cells
from wfnb.jupyter.oneline import shows_errors_in

__all__ = ["VariantBrowser"]

_COLUMNS = ["count", "share", "median", "steps", "variant"]
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
    "allow_html": True,
}
"""The table's options, given again on every update (itables drops some on update)."""
_NOTE = "<span style='color:#555'>{}</span>"


class VariantBrowser(widgets.VBox):  # type: ignore[misc]
    """Variants of one workflow's history (or every workflow's), most frequent first, paged.

    Args:
        db: a wfnb database (URL or engine).
        workflows: names offered in the workflow list (default: none, type one in).
        workflow: the workflow shown first.
    """

    def __init__(
        self,
        db: sa.Engine | str,
        workflows: Any = (),
        workflow: str | None = None,
    ) -> None:
        from itables.widget import ITable  # noqa: PLC0415  # the jupyter extra

        self.db = db
        self.frame: pd.DataFrame | None = None
        names = sorted(workflows)
        if workflow is not None and workflow not in names:
            names.insert(0, workflow)
        self.workflow = widgets.Combobox(
            value=workflow or "",
            options=names,
            description="Workflow",
            placeholder="(every workflow)",
            layout=widgets.Layout(width="300px"),
        )
        narrow = widgets.Layout(width="210px")
        self.since = widgets.Text(description="Since", placeholder="2026-06-01", layout=narrow)
        self.until = widgets.Text(description="Until", placeholder="2026-07-01", layout=narrow)
        self.apply = widgets.Button(description="Show", layout=widgets.Layout(width="80px"))
        self.summary = widgets.HTML()
        self.table = ITable(pd.DataFrame({c: [] for c in _COLUMNS}), **_PAGER)
        self.detail = widgets.HTML(_NOTE.format("select a variant to see its statuses in order"))
        self.apply.on_click(lambda _b: self.refresh())
        self.table.observe(self._on_select, names="selected_rows")
        filters = widgets.HBox([self.workflow, self.since, self.until, self.apply])
        super().__init__([filters, self.summary, self.table, self.detail])
        self.refresh()

    @shows_errors_in("summary")
    def refresh(self) -> None:
        """Re-read the variants with the current filters (traces are built in SQL)."""
        from wfnb.frames.variants import variants  # noqa: PLC0415
        from wfnb.jupyter.parser import moment  # noqa: PLC0415

        since, until = self.since.value.strip(), self.until.value.strip()
        self.frame = variants(
            self.db,
            self.workflow.value.strip() or None,
            since=moment(since) if since else None,
            until=moment(until) if until else None,
        )
        n, entities = len(self.frame), int(self.frame["count"].sum())
        self.summary.value = (
            f"<b>{n:,} variant{'s' * (n != 1)}</b> of {entities:,} entit"
            f"{'ies' if entities != 1 else 'y'} <span style='color:#555'>· every variant, most"
            " frequent first, paged · median: first to last history row</span>"
        )
        self.table.update(html_cells(self._shown()), **_PAGER)

    def _shown(self) -> pd.DataFrame:
        assert self.frame is not None
        shown = self.frame[_COLUMNS].copy()
        shown["share"] = [f"{s:.1%}" for s in shown["share"]]
        return shown

    def rows(self) -> list[list[str]]:
        """What the table shows, row by row (readable text; for tests and exports)."""
        if self.frame is None:
            return []
        return [list(map(str, r)) for r in text_cells(self._shown()).to_numpy().tolist()]

    def show(self, index: int) -> None:
        """Show the statuses of the variant at ``index`` (table order) under the table."""
        if self.frame is None or not 0 <= index < len(self.frame):
            return
        row = self.frame.iloc[index]
        items = "".join(f"<li>{escape(str(s))}</li>" for s in row["trace"])
        self.detail.value = (
            f"<div><b>{int(row['count']):,} entities</b> took this path "
            f"({row['share']:.1%}):<ol style='margin:4px 0'>{items}</ol></div>"
        )

    @shows_errors_in("summary")
    def _on_select(self, change: Any) -> None:
        picked = change["new"]
        if picked:
            self.show(int(picked[0]))

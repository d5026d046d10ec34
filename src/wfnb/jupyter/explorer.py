"""The workflow explorer widget: pick a workflow, see its diagram, pick a status, see its steps."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from html import escape
from typing import Any

import ipywidgets as widgets

from wfnb.frames.display import html_table as table
from wfnb.jupyter.oneline import shows_errors_in
from wfnb.spec import Workflow, Workflows

__all__ = ["WorkflowExplorer", "status_panel"]

EdgeCounts = Mapping[tuple[str, ...], int]
CountsSource = Callable[[Workflow], EdgeCounts]


def _after(iso: str) -> str:
    """``P14D`` as ``14 d (P14D)``, ``P1M`` as ``1 month (P1M)``."""
    from wfnb.durations import duration_words  # noqa: PLC0415

    return f"{duration_words(iso)} ({iso})"


def status_panel(wf: Workflow, status: str) -> str:
    """HTML: what can happen at ``status`` — steps, who runs them, use cases, timers, observed."""
    kind = (
        "initial"
        if status == wf.initial_status
        else "claim"
        if status in wf.claim_statuses
        else "terminal"
        if wf.is_terminal(status)
        else "status"
    )
    parts = [f"<h4>{escape(status)} <small>({kind})</small></h4>"]
    rows = []
    for step in wf.steps_at(status):
        who = list(step.requester_types or wf.requester_types)
        for rt in who:
            eff = step.for_requester(rt)
            rows.append(
                (
                    step.key,
                    rt + (" (override)" if rt in step.overrides else ""),
                    eff.validation,
                    eff.action,
                    eff.successful_state,
                    eff.rejection.state if eff.rejection else None,
                    eff.claim.status if eff.claim else None,
                    "yes" if eff.auto_advance else "",
                )
            )
    headers = ["step", "requester", "validation", "action", "→ success", "→ rejection", "claim"]
    parts.append(table([*headers, "auto"], rows) if rows else "<p>No step is declared here.</p>")
    timers = [(t.key, _after(t.after), t.step, t.requester_type) for t in wf.timers_at(status)]
    if timers:
        parts.append(table(["timer", "after", "runs step", "as"], timers, "Timers"))
    observed = [(o.to, o.source) for o in wf.observed_transitions if o.from_ == status]
    if observed:
        parts.append(table(["→ status", "source"], observed, "Observed transitions"))
    return "".join(parts)


class WorkflowExplorer(widgets.VBox):  # type: ignore[misc]  # ipywidgets is untyped
    """Workflow, status and heat-overlay pickers over the diagram and a status panel.

    Args:
        wfs: the loaded workflows.
        counts: optional ``workflow -> {(from, to): n}`` from history (the heat overlay);
            without it the toggle is disabled.
        direction: the diagram's direction.
    """

    def __init__(
        self, wfs: Workflows, counts: CountsSource | None = None, *, direction: str = "LR"
    ) -> None:
        self.wfs, self.counts, self.direction = wfs, counts, direction
        names = sorted(wfs)
        self.workflow = widgets.Dropdown(options=names, value=names[0], description="Workflow")
        self.status = widgets.Dropdown(description="Status")
        self.heat = widgets.Checkbox(
            value=False, description="History heat", disabled=counts is None, indent=False
        )
        self.diagram = widgets.HTML()
        self.panel = widgets.HTML()
        self.message = widgets.HTML()
        self.workflow.observe(self._on_workflow, names="value")
        self.status.observe(self._on_status, names="value")
        self.heat.observe(self._on_heat, names="value")
        controls = widgets.HBox([self.workflow, self.status, self.heat])
        super().__init__([controls, self.message, self.diagram, self.panel])
        self._on_workflow(None)

    @property
    def current(self) -> Workflow:
        """The selected workflow."""
        return self.wfs[self.workflow.value]

    @shows_errors_in("message")
    def _on_workflow(self, _change: Any) -> None:
        self.message.value = ""
        wf = self.current
        self.status.options = list(wf.status_types)
        self.status.value = wf.initial_status
        self._draw()
        self._on_status(None)

    @shows_errors_in("message")
    def _on_status(self, _change: Any) -> None:
        if self.status.value is not None:
            self.panel.value = status_panel(self.current, self.status.value)

    @shows_errors_in("message")
    def _on_heat(self, _change: Any) -> None:
        self.message.value = ""
        self._draw()

    def _draw(self) -> None:
        from wfnb.analysis import diagram  # noqa: PLC0415  # graphviz only when drawn

        wf = self.current
        highlight = self.counts(wf) if (self.heat.value and self.counts) else None
        self.diagram.value = diagram(wf, highlight=highlight, direction=self.direction).html(
            script=False
        )

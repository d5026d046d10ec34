"""Charts of a workflow's history: dwell times per status, transitions over time, heat diagram.

Drawn with matplotlib (ADR 0060), imported on first use, on a ``Figure`` (no pyplot
state). Every chart comes back as a ``Chart``: it renders inline in JupyterLab
(``_repr_svg_`` / ``_repr_png_``) and saves to a static file (``chart.save("x.svg")``).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wfnb import frames
from wfnb.exceptions import WfnbUsageError
from wfnb.spec import Workflow

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from wfnb.analysis import Diagram
    from wfnb.analysis.overlay import HistoryKey

__all__ = ["Chart", "dwell_plot", "edge_counts", "heat_diagram", "transitions_plot"]


def _figure(width: float = 8.0, height: float = 4.0) -> Figure:
    try:
        from matplotlib.figure import Figure  # noqa: PLC0415  # optional, heavy
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise WfnbUsageError("charts need matplotlib: pip install matplotlib") from exc
    return Figure(figsize=(width, height), layout="constrained")


class Chart:
    """A matplotlib figure that displays itself and saves to SVG, PNG or PDF."""

    def __init__(self, figure: Figure, title: str) -> None:
        self.figure = figure
        self.title = title

    def _render(self, fmt: str) -> bytes:
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format=fmt)
        return buffer.getvalue()

    def _repr_svg_(self) -> str:
        return self._render("svg").decode()

    def _repr_png_(self) -> bytes:
        return self._render("png")

    def save(self, path: str | Path) -> Path:
        """Write the chart; the format follows the suffix (``.svg``, ``.png``, ``.pdf``)."""
        target = Path(path)
        self.figure.savefig(target)
        return target

    def __repr__(self) -> str:
        return f"<Chart {self.title!r}>"


DAYS_ABOVE_HOURS = 72.0
"""A dwell plot whose longest stay exceeds this many hours is drawn in days."""


def dwell_plot(db: Any, workflow: str | Workflow, **filters: Any) -> Chart:
    """Box plots of the time spent at each status, from ``frames.stays``.

    In hours, or in days when the longest stay exceeds :data:`DAYS_ABOVE_HOURS` (a
    2,500-hour axis reads better as 104 days). Only ``(status, duration)`` pairs are
    fetched; ``filters`` go to ``frames.stays``.
    """
    stays = frames.stays(db, workflow, **filters)
    name = workflow.name if isinstance(workflow, Workflow) else workflow
    fig = _figure()
    ax = fig.add_subplot()
    hours = stays["duration"].dt.total_seconds() / 3600.0
    longest = float(hours.max()) if len(hours) else 0.0
    unit, size = ("days", 24.0) if longest > DAYS_ABOVE_HOURS else ("hours", 1.0)
    spans = stays.assign(span=hours / size)
    groups = [(str(s), g["span"].to_numpy()) for s, g in spans.groupby("status", observed=True)]
    if groups:
        ax.boxplot(
            [g for _, g in groups], tick_labels=[s for s, _ in groups], orientation="horizontal"
        )
    ax.set_xlabel(f"{unit} at status")
    ax.set_title(f"{name}: dwell time per status")
    return Chart(fig, f"{name} dwell times")


def transitions_plot(db: Any, workflow: str | Workflow, freq: str = "D", **filters: Any) -> Chart:
    """Transitions per ``freq`` bucket (h, D, W, M) as bars, from ``frames.throughput``."""
    counts = frames.throughput(db, workflow, freq, **filters)
    name = workflow.name if isinstance(workflow, Workflow) else workflow
    fig = _figure()
    ax = fig.add_subplot()
    ax.bar(counts["bucket"].dt.tz_localize(None), counts["transitions"], width=0.8)
    ax.set_ylabel("transitions")
    ax.set_title(f"{name}: transitions per {freq}")
    fig.autofmt_xdate()
    return Chart(fig, f"{name} transitions")


def edge_counts(db: Any, wf: Workflow | str, **filters: Any) -> dict[HistoryKey, int]:
    """How often history took each kind of move: the heat overlay's input.

    Keys are :class:`~wfnb.analysis.overlay.HistoryKey` ``(kind, from_status, to_status,
    step_key, requester_type, source)``, one per ``GROUP BY`` group of
    ``workflow_history``; ``diagram(wf, highlight=edge_counts(db, wf))`` puts each on the
    one edge of its own kind (a bank-feed observation on the observed edge, a claim
    failure on the failure edge) and draws the rest as undeclared. Creations (no
    ``from_status``) are left out. ``filters``: ``since``, ``until``, ``tenant_id``.
    """
    from wfnb.analysis.heat import history_counts  # noqa: PLC0415

    counts = history_counts(db, wf, **filters)
    return {key: n for key, n in counts.items() if key.from_status is not None}


def heat_diagram(db: Any, wf: Workflow, *, direction: str = "LR", **filters: Any) -> Diagram:
    """The workflow's diagram with each edge weighted by how often history took it."""
    from wfnb.analysis import diagram  # noqa: PLC0415  # graphviz only when drawing

    return diagram(wf, highlight=edge_counts(db, wf, **filters), direction=direction)

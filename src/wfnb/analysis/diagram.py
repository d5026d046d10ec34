"""``diagram()``: a workflow (or a region, or one requester's view) drawn from its graph.

The house pattern: :func:`wfnb.analysis.graph` extracts, :mod:`wfnb.analysis.ir` turns the
graph into a plain IR with every style decided, :mod:`wfnb.analysis.render` writes DOT or
Mermaid and lays DOT out with whichever ``dot`` binary it finds.
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path

import networkx as nx

from wfnb._html import diagram_viewer
from wfnb.analysis.graph import graph, requester_view
from wfnb.analysis.ir import SPLIT_FAN_IN, DiagramIR, extract
from wfnb.analysis.overlay import EdgeCounts
from wfnb.analysis.render import LABEL_PT, render, to_dot, to_mermaid
from wfnb.exceptions import WfnbUsageError
from wfnb.spec import Workflow

__all__ = ["Diagram", "diagram"]

DIRECTIONS = ("LR", "TB", "RL", "BT", "AUTO")
_RASTER = {".svg": "svg", ".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg"}


class Diagram:
    """A drawn workflow: DOT source, Mermaid text, SVG; displays itself in a notebook.

    Attributes:
        ir: the diagram's nodes and edges with their style hints.
    """

    def __init__(self, ir: DiagramIR) -> None:
        self.ir = ir

    @cached_property
    def dot(self) -> str:
        """The DOT source."""
        return to_dot(self.ir)

    def mermaid(self) -> str:
        """Mermaid ``flowchart`` text (for Markdown, GitHub, GitLab, docs)."""
        return to_mermaid(self.ir)

    def svg(self) -> str:
        """The laid-out drawing as SVG text (runs ``dot`` or ``graphviz-pure``)."""
        return self._svg

    @cached_property
    def _svg(self) -> str:
        return render(self.dot, "svg").decode("utf-8")

    def save(self, path: str | Path) -> Path:
        """Write the diagram; the suffix picks the format: .svg, .png, .jpg, .dot/.gv, .mmd.

        Raises:
            WfnbUsageError: an unknown suffix.
        """
        target = Path(path)
        suffix = target.suffix.lower()
        if suffix == ".svg":
            target.write_text(self.svg(), encoding="utf-8")
        elif suffix in _RASTER:
            target.write_bytes(render(self.dot, _RASTER[suffix]))
        elif suffix in {".dot", ".gv"}:
            target.write_text(self.dot, encoding="utf-8")
        elif suffix in {".mmd", ".mermaid"}:
            target.write_text(self.mermaid(), encoding="utf-8")
        else:
            raise WfnbUsageError(
                f"cannot save a diagram as {target.name!r}: use .svg, .png, .jpg, .dot, .gv or .mmd"
            )
        return target

    def _repr_svg_(self) -> str:
        return self.svg()

    def html(self, *, script: bool = True) -> str:
        """The drawing in a viewer that fits the column and keeps labels legible.

        It scales down to the column, never below 11 px labels; larger drawings pan by
        dragging, with zoom buttons (see :func:`wfnb._html.diagram_viewer`, ADR 0034).
        """
        return diagram_viewer(self.svg(), label_pt=float(LABEL_PT), script=script)

    def _repr_html_(self) -> str:
        return self.html()

    def __repr__(self) -> str:
        return (
            f"<Diagram {self.ir.name!r}: {len(self.ir.nodes)} statuses, {len(self.ir.edges)} edges>"
        )


def _width(svg: str) -> float:
    found = re.search(r'<svg\b[^>]*?\swidth="([\d.]+)pt"', svg)
    return float(found.group(1)) if found else 0.0


def _region(g: nx.MultiDiGraph, focus: str, depth: int) -> nx.MultiDiGraph:
    if focus not in g:
        raise WfnbUsageError(
            f"cannot focus on {focus!r}: workflow {g.graph['name']!r} has no such status"
        )
    if depth < 0:
        raise WfnbUsageError(f"depth must be 0 or more, got {depth}")
    region: nx.MultiDiGraph = nx.ego_graph(g, focus, radius=depth, undirected=True)
    return region


def diagram(
    wf: Workflow,
    highlight: EdgeCounts | None = None,
    *,
    focus: str | None = None,
    depth: int = 1,
    requester_type: str | None = None,
    direction: str = "LR",
    history_edges: EdgeCounts | None = None,
    split_terminals: int | None = SPLIT_FAN_IN,
    tenant: str | None = None,
) -> Diagram:
    """Draw a workflow.

    Args:
        wf: a loaded workflow.
        highlight: counts per edge from history, keyed ``(from, to)`` or
            ``(from, to, step_key)``: taken edges get a width and heat colour by count and
            the count in their label; declared edges never taken turn grey.
        focus: keep only the statuses within ``depth`` edges of this one (either direction).
        depth: the radius around ``focus``.
        requester_type: draw only the edges this requester type alone can trigger, after its
            overrides (see :func:`wfnb.analysis.graph.requester_view`).
        direction: ``LR`` (default, readable for long workflows), ``TB``, ``RL``, ``BT``,
            or ``auto``: whichever of ``LR`` and ``TB`` draws narrower (a page column is
            narrow and long; the report uses it).
        history_edges: taken transitions as counts; any declared nowhere in the workflow is
            drawn red and dashed (a manual UPDATE, an old config).
        split_terminals: a terminal status entered from more than this many statuses
            (``cancelled`` from everywhere) is drawn beside each of them instead of once with
            edges across the whole drawing; ``None`` draws every status once.
        tenant: draw the workflow as this tenant runs it (its overlay merged in: its timers'
            durations, use cases, auto-advance); a tenant without an overlay runs the base.

    Raises:
        WfnbUsageError: an unknown direction, focus status or requester type.
    """
    if direction.upper() not in DIRECTIONS:
        raise WfnbUsageError(f"direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}")
    title = wf.name
    wf = wf.for_tenant(tenant) if tenant is not None else wf
    shown = tenant if tenant is not None else wf.tenant
    if shown is not None:
        title += f" as tenant {shown} runs it" + ("" if wf.tenant else " (no overlay: the base)")
    g = graph(wf)
    if requester_type is not None:
        g = requester_view(g, requester_type)
        title += f": the edges {requester_type} can trigger (at any status)"
    if focus is not None:
        g = _region(g, focus, depth)
        title += f" around {focus} (depth {depth})"
    if direction.upper() == "AUTO":
        drawn = [
            diagram(
                wf, highlight, focus=focus, depth=depth, requester_type=requester_type,
                direction=d, history_edges=history_edges, split_terminals=split_terminals,
                tenant=tenant,
            )
            for d in ("LR", "TB")
        ]  # fmt: skip
        return min(drawn, key=lambda d: (_width(d.svg()), d.ir.direction != "LR"))
    ir = extract(
        g,
        direction=direction.upper(),
        highlight=highlight,
        history_edges=history_edges,
        focus=focus,
        known=wf.status_types,
        title=title,
        split=split_terminals,
    )
    return Diagram(ir)

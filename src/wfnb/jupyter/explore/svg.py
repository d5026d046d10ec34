"""The explorer's drawing: the toolkit's graphviz SVG of one view, with ids for the front end.

Each view (plain, history heat, deviations, one requester's edges, a version diff) is drawn
by :func:`wfnb.analysis.diagram` exactly as ``%wfnb graph`` draws it; :func:`annotate` then
marks each status ``<g>`` with ``data-status`` and each edge ``<g>`` with ``data-edge``
(``from→to``, see :func:`~wfnb.jupyter.explore.data.edge_id`) so clicks and hovers find them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape, unescape
from typing import Any

from wfnb.analysis.ir import DiagramIR
from wfnb.jupyter.explore.data import edge_id
from wfnb.spec import Workflow

__all__ = ["OVERLAYS", "EdgeDiff", "annotate", "edge_diff"]

OVERLAYS = ("none", "heat", "deviations", "requester", "diff")
"""The overlays the explorer toggles in place (the tenant filters every one of them)."""

_NODE = re.compile(r'<g id="(node\d+)" class="node">\n<title>(.*?)</title>')
_EDGE = re.compile(r'<g id="(edge\d+)" class="edge">\n<title>(.*?)</title>')


@dataclass(frozen=True)
class EdgeDiff:
    """Edges (``from→to``) added, removed and changed between two versions of a workflow."""

    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[str, ...]

    def classes(self) -> dict[str, str]:
        """``edge id -> wfnb-diff-<what>``."""
        out = dict.fromkeys(self.added, "wfnb-diff-added")
        out |= dict.fromkeys(self.removed, "wfnb-diff-removed")
        return out | dict.fromkeys(self.changed, "wfnb-diff-changed")

    def summary(self) -> str:
        """One line: ``2 added, 1 removed, 0 changed``."""
        return f"{len(self.added)} added, {len(self.removed)} removed, {len(self.changed)} changed"


def _edges(wf: Workflow) -> dict[tuple[str, str], set[tuple[Any, ...]]]:
    from wfnb.analysis.graph import graph  # noqa: PLC0415

    out: dict[tuple[str, str], set[tuple[Any, ...]]] = {}
    for u, v, d in graph(wf).edges(data=True):
        what = (str(d.get("kind")), d.get("step"), tuple(d.get("requester_types") or ()))
        out.setdefault((u, v), set()).add((*what, tuple(d.get("use_cases") or ())))
    return out


def edge_diff(old: Workflow, new: Workflow) -> EdgeDiff:
    """Which status pairs gained or lost their last edge, or whose edges changed."""
    before, after = _edges(old), _edges(new)
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(p for p in set(before) & set(after) if before[p] != after[p])
    return EdgeDiff(
        tuple(edge_id(*p) for p in added),
        tuple(edge_id(*p) for p in removed),
        tuple(edge_id(*p) for p in changed),
    )


def _end(text: str) -> str:
    return text.split(":", 1)[0]  # a compass port (``draft:n``); DOT ids here have no colon


def annotate(svg: str, ir: DiagramIR, classes: dict[str, str] | None = None) -> str:
    """``svg`` with ``data-status`` / ``data-edge`` on its groups, ``classes`` on edges."""
    status_of = {n.id: n.copy_of or n.label for n in ir.nodes}
    extra = classes or {}

    def node(m: re.Match[str]) -> str:
        status = status_of.get(unescape(m.group(2)))
        if status is None:
            return m.group(0)
        return (
            f'<g id="{m.group(1)}" class="node wfnb-status" data-status="{escape(status)}">\n'
            f"<title>{m.group(2)}</title>"
        )

    def edge(m: re.Match[str]) -> str:
        ends = unescape(m.group(2)).split("->")
        if len(ends) != 2 or _end(ends[0]) not in status_of or _end(ends[1]) not in status_of:
            return m.group(0)  # the legend's sample edges
        key = edge_id(status_of[_end(ends[0])], status_of[_end(ends[1])])
        more = f" {extra[key]}" if key in extra else ""
        return (
            f'<g id="{m.group(1)}" class="edge wfnb-edge{more}" data-edge="{escape(key)}">\n'
            f"<title>{m.group(2)}</title>"
        )

    return _EDGE.sub(edge, _NODE.sub(node, svg))

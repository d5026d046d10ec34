"""The diagram IR: plain dataclasses of nodes and edges with style hints, extracted from the graph.

Extraction decides every visual choice (shape, colour, dash, width, label) once, so the
renderers (DOT, Mermaid) only translate. Counts from history are matched onto declared edges
here (see :mod:`wfnb.analysis.overlay`): ``highlight`` keys are exact
:class:`~wfnb.analysis.overlay.HistoryKey` groups, or the older ``(from, to)`` /
``(from, to, step_key)``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import networkx as nx

from wfnb.analysis.graph import EdgeKind
from wfnb.analysis.overlay import GREY, EdgeCounts, count_edges, heat, is_exact, match_counts

__all__ = ["RED", "SPLIT_FAN_IN", "DiagramIR", "EdgeIR", "NodeIR", "extract"]

UNDECLARED = "undeclared"
"""Kind of an edge taken in history but declared nowhere in the workflow."""

INK = "#333333"
RED = "#d62728"
# kind -> (colour, dash style, constraint): rejections and releases go "backwards" and must
# not pull the left-to-right ranking out of shape, hence constraint=False for them.
_EDGE_STYLE: dict[str, tuple[str, str, bool]] = {
    EdgeKind.STEP: (INK, "solid", True),
    EdgeKind.AUTO_ADVANCE: (INK, "bold", True),
    EdgeKind.OVERRIDE: ("#6a3d9a", "solid", True),
    EdgeKind.REJECTION: ("#e07b00", "dashed", False),
    EdgeKind.CLAIM: ("#777777", "dotted", True),
    EdgeKind.CLAIM_RELEASE: ("#777777", "dotted", True),
    EdgeKind.OBSERVED: ("#1f78b4", "dashed", True),
    EdgeKind.TIMER: ("#33a02c", "dotted", True),
    EdgeKind.JANITOR: ("#777777", "dashed", False),
    EdgeKind.FAILURE: ("#8c510a", "dotted", True),
    UNDECLARED: (RED, "dashed", False),
}
_PLAIN_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

SPLIT_FAN_IN = 4
"""A terminal status entered from more statuses than this is drawn beside each of them."""


@dataclass(frozen=True, slots=True)
class NodeIR:
    """A status as drawn."""

    id: str
    label: str
    shape: str = "box"
    style: str = "rounded"
    color: str = INK
    fillcolor: str = "white"
    fontcolor: str = INK
    peripheries: int = 1
    penwidth: float = 1.0
    tooltip: str = ""
    initial: bool = False
    terminal: bool = False
    failure: bool = False
    claim: bool = False
    copy_of: str | None = None
    """Set on a terminal status drawn again beside one of its sources (see ``split``)."""


@dataclass(frozen=True, slots=True)
class EdgeIR:
    """One way a status changes, as drawn."""

    source: str
    target: str
    key: str
    kind: str
    label: str
    color: str = INK
    style: str = "solid"
    penwidth: float = 1.0
    constraint: bool = True
    count: int | None = None
    declared: bool = True


@dataclass(frozen=True, slots=True)
class DiagramIR:
    """Everything a renderer needs: nodes and edges in drawing order, and the layout direction."""

    name: str
    title: str
    direction: str
    nodes: tuple[NodeIR, ...]
    edges: tuple[EdgeIR, ...]
    legend: tuple[tuple[str, str, str], ...] = ()
    """``(label, colour, line style)`` of each edge style to explain beside the drawing."""

    def node(self, status: str) -> NodeIR | None:
        """The node drawn for ``status`` (its first copy when it is split), if any.

        A label's first line is the status; a second line (a discovered graph's median
        stay) is not part of it.
        """
        drawn = [n for n in self.nodes if n.label.split("\n", 1)[0] == status]
        return next((n for n in drawn if n.copy_of is None), drawn[0] if drawn else None)


def _node(status: str, attrs: Mapping[str, Any], node_id: str, focus: str | None) -> NodeIR:
    roles = [r for r in ("initial", "terminal", "failure", "claim") if attrs.get(r)]
    shape, style, color, fill, font = "box", "rounded", INK, "white", INK
    if attrs.get("claim"):
        shape, style = "hexagon", "dashed"
    if attrs.get("initial"):
        style, fill = "rounded,filled,bold", "#e3f0fb"
    if attrs.get("failure"):
        style, color, fill, font = "rounded,filled", RED, "#fde3e3", RED
    if not attrs.get("declared", True):
        style, color = "dashed", RED
        roles.append("undeclared")
    return NodeIR(
        id=node_id,
        label=status,
        shape=shape,
        style=style,
        color=color,
        fillcolor=fill,
        fontcolor=font,
        peripheries=2 if attrs.get("terminal") else 1,
        penwidth=2.5 if status == focus else 1.0,
        tooltip=f"{status} ({', '.join(roles)})" if roles else status,
        initial=bool(attrs.get("initial")),
        terminal=bool(attrs.get("terminal")),
        failure=bool(attrs.get("failure")),
        claim=bool(attrs.get("claim")),
    )


def _node_ids(statuses: Iterable[str]) -> dict[str, str]:
    """Status names where DOT reads them as plain IDs, ``n<i>`` otherwise (ports, quotes)."""
    ids: dict[str, str] = {}
    taken = set()
    for i, status in enumerate(statuses):
        node_id = status if _PLAIN_ID.fullmatch(status) else f"n{i}"
        while node_id in taken:
            node_id = f"_{node_id}"
        taken.add(node_id)
        ids[status] = node_id
    return ids


def _split(g: nx.MultiDiGraph, limit: int | None) -> set[str]:
    """Terminal statuses entered from more than ``limit`` other statuses.

    Such a status (``cancelled`` reachable from everywhere) pulls edges across the whole
    drawing: unreadable, and for dot quadratic (every rank an edge crosses is a virtual
    node). A terminal status has no way out, so drawing it once beside each source loses
    nothing.
    """
    if limit is None:
        return set()
    return {
        t
        for t, terminal in g.nodes(data="terminal")
        if terminal and len({u for u, _ in g.in_edges(t)} - {t}) > limit
    }


class _Ids:
    """DOT ids of the drawn nodes, with the copies of split terminal statuses."""

    def __init__(self, g: nx.MultiDiGraph, split: set[str], focus: str | None) -> None:
        self.ids = _node_ids(g.nodes)
        self.split = split
        self.focus = focus
        self.attrs = dict(g.nodes(data=True))
        self.copies: dict[tuple[str, str], NodeIR] = {}
        self.extra: list[NodeIR] = []

    def main(self, status: str) -> str:
        if status not in self.ids:  # a status no config declares any more: show it
            plain = _PLAIN_ID.fullmatch(status) and status not in self.ids.values()
            self.ids[status] = status if plain else f"n{len(self.ids)}"
            self.extra.append(_node(status, {"declared": False}, self.ids[status], self.focus))
        return self.ids[status]

    def target(self, source: str, status: str) -> str:
        if status not in self.split:
            return self.main(status)
        key = (status, source)
        if key not in self.copies:
            node = _node(status, self.attrs[status], "", self.focus)
            node_id = f"{self.ids[status]}__{len(self.copies)}"
            tip = f"{node.tooltip}, drawn beside {source}"
            style = f"{node.style},dashed"
            self.copies[key] = replace(node, id=node_id, style=style, tooltip=tip, copy_of=status)
        return self.copies[key].id

    def nodes(self, g: nx.MultiDiGraph) -> tuple[NodeIR, ...]:
        kept = [
            _node(s, d, self.ids[s], self.focus)
            for s, d in g.nodes(data=True)
            if s not in self.split
        ]
        return (*kept, *self.copies.values(), *self.extra)


def extract(
    g: nx.MultiDiGraph,
    *,
    direction: str = "LR",
    highlight: EdgeCounts | None = None,
    history_edges: EdgeCounts | None = None,
    focus: str | None = None,
    known: Iterable[str] | None = None,
    title: str | None = None,
    split: int | None = SPLIT_FAN_IN,
) -> DiagramIR:
    """Turn a workflow graph (or a region of it) into the diagram IR.

    Args:
        g: a graph from :func:`wfnb.analysis.graph` (possibly a requester view or a region).
        direction: graphviz ``rankdir`` (``LR``, ``TB``, ``RL``, ``BT``).
        highlight: counts per edge from history; declared edges get a width, a heat colour and
            the count in their label, declared edges never taken turn grey. Keys that match
            no declared edge are drawn like ``history_edges``.
        history_edges: taken transitions as counts; those declared nowhere are drawn red and
            dashed (a manual UPDATE, an old config). Declared ones add nothing here.
        focus: the status drawn with a heavier border.
        known: every status of the workflow when ``g`` is only a region of it: a taken edge
            with an end in the workflow but outside the region is left out, while an end the
            workflow does not know at all is drawn as a red dashed status.
        title: the diagram's caption; defaults to the workflow's name.
        split: a terminal status entered from more than this many statuses is drawn once
            beside each of them (``None``: always once).
    """
    edges = list(g.edges(keys=True, data=True))
    whole = set(known or ())
    ids = _Ids(g, _split(g, split), focus)
    if highlight is not None and is_exact(highlight):
        counts, stray = count_edges(highlight, edges)
    else:
        counts, stray = match_counts(highlight or {}, edges)
    history = history_edges or {}
    _, stray_history = (count_edges if is_exact(history) else match_counts)(history, edges)
    for pair, n in stray_history.items():
        stray[pair] = max(stray.get(pair, 0), n)
    top = max([*counts.values(), *stray.values(), 0])
    drawn = []
    for u, v, k, d in edges:
        color, style, constraint = _EDGE_STYLE[d["kind"]]
        if d["kind"] == EdgeKind.CLAIM_RELEASE and k.endswith(":back"):
            constraint = False
        label, width, count = d["label"], 1.0, None
        if highlight is not None:
            count = counts.get((u, v, k), 0)
            color, width = heat(count, top) if count else (GREY, 1.0)
            label = f"{label} ({count:,})"
        drawn.append(
            EdgeIR(
                ids.main(u), ids.target(u, v), k, str(d["kind"]), label, color, style, width,
                constraint, count,
            )
        )  # fmt: skip
    for (u, v), n in stray.items():
        if any(s not in g and s in whole for s in (u, v)):
            continue  # an end lies outside this region of the workflow
        drawn.append(
            EdgeIR(
                ids.main(u),
                ids.target(u, v),
                f"undeclared:{u}->{v}",
                UNDECLARED,
                f"undeclared ({n:,})",
                RED,
                "dashed",
                heat(n, top)[1],
                constraint=False,
                count=n,
                declared=False,
            )
        )
    name = str(g.graph.get("name", "workflow"))
    return DiagramIR(name, title or name, direction, ids.nodes(g), tuple(drawn))

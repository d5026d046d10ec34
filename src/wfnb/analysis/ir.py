"""The diagram IR: plain dataclasses of nodes and edges with style hints, extracted from the graph.

Extraction decides every visual choice (shape, colour, dash, width, label) once, so the
renderers (DOT, Mermaid) only translate. Counts from history are matched onto declared edges
here: ``highlight`` keys are ``(from, to)`` or ``(from, to, step_key)``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import networkx as nx

from wfnb.analysis.graph import EdgeKind

__all__ = ["DiagramIR", "EdgeCounts", "EdgeIR", "EdgeKey", "NodeIR", "extract"]

EdgeKey = tuple[str, str] | tuple[str, str, str | None]
"""A history count's key: ``(from_status, to_status)`` or ``(from, to, step_key)``."""

EdgeCounts = (
    Mapping[tuple[str, str], int]
    | Mapping[tuple[str, str, str | None], int]
    | Mapping[tuple[str, ...], int]
    | Mapping[EdgeKey, int]
)
"""Counts per edge, keyed by pairs, by triples, or by both (a union: ``Mapping`` keys are
invariant, so a ``dict[tuple[str, str], int]`` must type-check as it is)."""

UNDECLARED = "undeclared"
"""Kind of an edge taken in history but declared nowhere in the workflow."""

INK = "#333333"
GREY = "#b8b8b8"
RED = "#d62728"
HEAT = ("#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08306b")
"""Sequential blues for counts (low → high), kept clear of the red of undeclared edges."""

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
    UNDECLARED: (RED, "dashed", False),
}
_PLAIN_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


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

    def node(self, status: str) -> NodeIR | None:
        """The node drawn for ``status``, if it is in the diagram."""
        return next((n for n in self.nodes if n.label == status), None)


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


def _match(
    counts: EdgeCounts, edges: list[tuple[str, str, str, dict[str, Any]]]
) -> tuple[dict[tuple[str, str, str], int], dict[tuple[str, str], int]]:
    """Counts per declared edge ``(from, to, key)``, and the counts no declared edge matches.

    A ``(from, to, step)`` key counts on every edge of that step between the two statuses;
    a ``(from, to)`` key counts on the first declared edge between them (steps come before
    rejections, observed transitions and timers in graph order).
    """
    by_edge: dict[tuple[str, str, str], int] = {}
    unmatched: dict[tuple[str, str], int] = {}
    index: dict[tuple[str, str], list[tuple[str, str | None]]] = {}
    for a, b, k, d in edges:
        index.setdefault((a, b), []).append((k, d["step"]))
    for key, many in counts.items():
        u, v, n = key[0], key[1], int(many)  # numpy / pandas integers become plain ints
        declared = index.get((u, v), [])
        pick = [e for e in declared if e[1] == key[2]] if len(key) == 3 else declared[:1]
        keys = [k for k, _ in pick]
        for k in keys:
            by_edge[(u, v, k)] = by_edge.get((u, v, k), 0) + n
        if not keys:
            unmatched[(u, v)] = unmatched.get((u, v), 0) + n
    return by_edge, unmatched


def _heat(count: int, top: int) -> tuple[str, float]:
    share = (count / top) ** 0.5 if top else 0.0  # sqrt: rare edges stay visible
    return HEAT[min(int(share * len(HEAT)), len(HEAT) - 1)], round(1.0 + 5.0 * share, 2)


def extract(
    g: nx.MultiDiGraph,
    *,
    direction: str = "LR",
    highlight: EdgeCounts | None = None,
    history_edges: EdgeCounts | None = None,
    focus: str | None = None,
    known: Iterable[str] | None = None,
    title: str | None = None,
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
    """
    edges = list(g.edges(keys=True, data=True))
    whole = set(known or ())
    ids = _node_ids(g.nodes)
    nodes = tuple(_node(s, d, ids[s], focus) for s, d in g.nodes(data=True))
    counts, stray = _match(highlight or {}, edges)
    _, stray_history = _match(history_edges or {}, edges)
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
            color, width = _heat(count, top) if count else (GREY, 1.0)
            label = f"{label} ({count})"
        drawn.append(
            EdgeIR(ids[u], ids[v], k, str(d["kind"]), label, color, style, width, constraint, count)
        )
    extra: list[NodeIR] = []
    for (u, v), n in stray.items():
        if any(s not in ids and s in whole for s in (u, v)):
            continue  # an end lies outside this region of the workflow
        for s in (u, v):
            if s not in ids:  # a status no config declares any more: show where it went
                ids[s] = f"n{len(ids)}" if not _PLAIN_ID.fullmatch(s) or s in ids.values() else s
                extra.append(_node(s, {"declared": False}, ids[s], focus))
        drawn.append(
            EdgeIR(
                ids[u],
                ids[v],
                f"undeclared:{u}->{v}",
                UNDECLARED,
                f"undeclared ({n})",
                RED,
                "dashed",
                _heat(n, top)[1],
                constraint=False,
                count=n,
                declared=False,
            )
        )
    name = str(g.graph.get("name", "workflow"))
    return DiagramIR(name, title or name, direction, (*nodes, *extra), tuple(drawn))

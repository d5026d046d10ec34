"""A discovered directly-follows graph drawn with the workflow diagram's own code.

The graph becomes a networkx graph shaped like :func:`wfnb.analysis.graph`'s (status
nodes with ``initial``/``terminal``/``failure``/``claim``/``declared``, one edge per
status pair), :func:`wfnb.analysis.ir.extract` lays out the IR as for a workflow, and
the edges are then styled by what happened: heat and width by count, the count, median
and p90 in the label; over a config, edges taken but not allowed red and dashed, edges
allowed but never taken grey and dotted, with a legend.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import networkx as nx
import pandas as pd

from wfnb.analysis.diagram import Diagram
from wfnb.analysis.discovery import ALLOWED, NEVER_TAKEN, NOT_ALLOWED
from wfnb.analysis.graph import EdgeKind
from wfnb.analysis.ir import RED, SPLIT_FAN_IN, extract
from wfnb.analysis.overlay import GREY, HEAT, heat
from wfnb.exceptions import WfnbUsageError
from wfnb.spec import Workflow

if TYPE_CHECKING:
    from wfnb.analysis.discovery import DirectlyFollows

__all__ = ["draw", "duration_words"]

_STYLE = {ALLOWED: "solid", NOT_ALLOWED: "dashed", NEVER_TAKEN: "dotted"}
_DIRECTIONS = ("LR", "TB", "RL", "BT")


def duration_words(value: Any) -> str:
    """``2 d 3 h``, ``45 min``, ``12 s``; a missing duration reads ``—``."""
    from wfnb.frames.display import duration_text  # noqa: PLC0415  # the one readable format

    return duration_text(None if pd.isna(value) else value)


def _label(row: dict[Any, Any]) -> str:
    if row["category"] == NEVER_TAKEN:
        return "allowed, never taken"
    timing = f"median {duration_words(row['median'])} · p90 {duration_words(row['p90'])}"
    n = int(row["count"])
    return f"{n:,} time{'s' * (n != 1)} · {timing}"


def _nodes(dfg: DirectlyFollows, config: Workflow | None) -> dict[str, dict[str, Any]]:
    seen = dfg.statuses
    if config is None:
        leaving = set(dfg.edges["from_status"])
        first = str(dfg.starts.idxmax()) if len(dfg.starts) else None
        return {s: {"initial": s == first, "terminal": s not in leaving} for s in seen}
    claims = {s.claim.status for s in config.steps if s.claim is not None}
    nodes = {
        s: {
            "initial": s == config.initial_status,
            "terminal": s in config.terminal_statuses,
            "failure": s in config.failure_statuses,
            "claim": s in claims,
        }
        for s in config.status_types
    }
    for s in seen:
        nodes.setdefault(s, {"declared": False})
    return nodes


def _stays(dfg: DirectlyFollows) -> dict[str, str]:
    """``status → "stays: median 2 d · p90 5 d"`` for the statuses ever left."""
    out = {}
    for row in dfg.dwell.to_dict("records"):
        if row["count"]:
            out[str(row["status"])] = (
                f"{int(row['count']):,} stays: median {duration_words(row['median'])}"
                f" · p90 {duration_words(row['p90'])}"
            )
    return out


def draw(
    dfg: DirectlyFollows,
    config: Workflow | None = None,
    *,
    direction: str = "LR",
    min_count: int = 1,
) -> Diagram:
    """The diagram of ``dfg``, alone or over ``config`` (see the module docstring).

    Taken edges rarer than ``min_count`` are left out, and the title says how many.

    Raises:
        WfnbUsageError: an unknown direction, or ``min_count`` below 1.
    """
    if direction.upper() not in _DIRECTIONS:
        raise WfnbUsageError(
            f"direction must be one of {', '.join(_DIRECTIONS)}, got {direction!r}"
        )
    if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 1:
        raise WfnbUsageError(f"min_count must be a whole number of 1 or more, got {min_count!r}")
    edges = dfg.overlay(config) if config is not None else dfg.edges.assign(category=ALLOWED)
    rare = (edges["count"] > 0) & (edges["count"] < min_count)
    hidden, edges = int(rare.sum()), edges[~rare]
    name = dfg.workflow or (config.name if config is not None else "history")
    g = nx.MultiDiGraph(name=name)
    stays = _stays(dfg)
    for status, attrs in _nodes(dfg, config).items():
        g.add_node(status, **attrs)
    styles: dict[str, tuple[str, int]] = {}
    for i, row in enumerate(edges.to_dict("records")):
        key = f"dfg:{i}"
        styles[key] = (str(row["category"]), int(row["count"]))
        g.add_edge(str(row["from_status"]), str(row["to_status"]), key=key, kind=EdgeKind.STEP,
                   label=_label(row), step=None, requester_types=(), moves=())  # fmt: skip
    title = f"{name}: what happened ({dfg.entities:,} entities, {dfg.events:,} events)"
    if config is not None:
        title += f" over the config {config.name} ({config.config_hash[:12]})"
    if hidden:
        title += (
            f"; {hidden:,} edge{'s' * (hidden != 1)} taken fewer than {min_count:,} times not drawn"
        )
    ir = extract(g, direction=direction.upper(), title=title, split=SPLIT_FAN_IN)
    top = max([n for _, n in styles.values()] + [0])
    drawn = []
    for e in ir.edges:
        category, count = styles[e.key]
        style = _STYLE[category]
        color, width = heat(count, top) if count else (GREY, 1.0)
        if category == NOT_ALLOWED:
            color = RED
        drawn.append(replace(e, color=color, style=style, penwidth=width, count=count,
                             declared=category != NOT_ALLOWED))  # fmt: skip
    medians = dfg.dwell.set_index("status")["median"]
    nodes = tuple(
        replace(
            n,
            label=f"{n.label}\nmedian stay {duration_words(medians[n.label])}",
            tooltip=f"{n.tooltip}: {stays[n.label]}",
        )
        if n.label in stays
        else n
        for n in ir.nodes
    )
    taken = ALLOWED if config is not None else "taken"
    legend = [(f"{taken} (darker and wider: more often)", HEAT[-1], "solid")]
    if config is not None:
        legend += [(NOT_ALLOWED, RED, "dashed"), (NEVER_TAKEN, GREY, "dotted")]
    return Diagram(replace(ir, nodes=nodes, edges=tuple(drawn), legend=tuple(legend)))

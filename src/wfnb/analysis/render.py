"""Renderers of the diagram IR (DOT, Mermaid) and the search for a ``dot`` binary to draw with.

Drawing needs a Graphviz ``dot``. When none is on ``PATH`` (a bare container, or a Jupyter
kernel that does not inherit an activated venv's ``PATH``), the ``graphviz-pure`` wheel's
self-contained binary, installed beside the Python executable, stands in; the ``graphviz``
package is pointed at it through ``graphviz.backend.dot_command.DOT_BINARY``. See
docs/adr/0030-finding-a-dot-binary.md.
"""

from __future__ import annotations

import html
import os
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from wfnb.analysis.ir import DiagramIR, EdgeIR
from wfnb.exceptions import WfnbUsageError

__all__ = ["DOT_ENV", "LABEL_PT", "find_dot", "render", "to_dot", "to_mermaid", "use_dot"]

DOT_ENV = "WFNB_DOT"
"""Environment variable naming a dot-compatible binary to use before any other."""

LABEL_PT = "10"
"""The smallest font of a drawing (edge labels), in points: the viewer keeps it legible."""

_PURE = "graphviz-pure.exe" if sys.platform == "win32" else "graphviz-pure"
_HINT = "install the drawing extra: pip install 'wfnb[graph]' (graphviz + graphviz-pure)"


def _graphviz() -> ModuleType:
    try:
        import graphviz  # noqa: PLC0415  # optional drawing dependency, imported on use
    except ImportError as exc:
        raise WfnbUsageError(f"drawing needs the graphviz package: {_HINT}") from exc
    module: ModuleType = graphviz
    return module


def find_dot() -> str | None:
    """The dot binary to draw with, or ``None``.

    In order: ``$WFNB_DOT``; ``dot`` on ``PATH``; ``graphviz-pure`` beside the running Python
    (found even when ``PATH`` lacks the venv); ``graphviz-pure`` on ``PATH``.
    """
    explicit = os.environ.get(DOT_ENV)
    if explicit:
        return shutil.which(explicit) or (explicit if Path(explicit).is_file() else None)
    system = shutil.which("dot")
    if system:
        return system
    beside = Path(sys.executable).parent / _PURE
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(_PURE)


def use_dot() -> str:
    """Point the ``graphviz`` package at a dot binary and return it.

    A ``DOT_BINARY`` the user set themselves is kept unless ``$WFNB_DOT`` says otherwise.

    Raises:
        WfnbUsageError: no dot binary is installed, or the graphviz package is missing.
    """
    _graphviz()
    from graphviz.backend import dot_command  # noqa: PLC0415  # after the install check

    current = Path(dot_command.DOT_BINARY)
    if current != Path("dot") and not os.environ.get(DOT_ENV):
        return str(current)
    found = find_dot()
    if found is None:
        raise WfnbUsageError(f"no Graphviz 'dot' and no 'graphviz-pure' binary found: {_HINT}")
    dot_command.DOT_BINARY = Path("dot") if found == shutil.which("dot") else Path(found)
    return found


def render(dot_source: str, fmt: str) -> bytes:
    """Lay out DOT source and return the drawing in ``fmt`` (``svg``, ``png``, ...).

    Raises:
        WfnbUsageError: no usable dot binary, or it failed on the source.
    """
    graphviz = _graphviz()
    binary = use_dot()
    try:
        out: bytes = graphviz.Source(dot_source).pipe(format=fmt, engine="dot", quiet=True)
    except graphviz.ExecutableNotFound as exc:
        raise WfnbUsageError(f"cannot run dot binary {binary!r}: {_HINT}") from exc
    except graphviz.CalledProcessError as exc:
        detail = (exc.stderr or b"").decode(errors="replace").strip().splitlines()
        reason = detail[-1] if detail else f"exit status {exc.returncode}"
        raise WfnbUsageError(f"dot ({binary}) failed to draw as {fmt!r}: {reason}") from exc
    return out


def to_dot(ir: DiagramIR) -> str:
    """DOT source of the diagram, built with the ``graphviz`` package (it quotes for us)."""
    graphviz = _graphviz()
    d = graphviz.Digraph(
        name=ir.name,
        graph_attr={
            "rankdir": ir.direction,
            "label": graphviz.escape(ir.title),
            "labelloc": "t",
            "labeljust": "l",  # the title sits where the viewer opens: top left
            "fontname": "Helvetica",
            "nodesep": "0.5",  # room for the labels of parallel edges side by side
            "ranksep": "0.55",
        },
        node_attr={"fontname": "Helvetica", "fontsize": "12", "height": "0.35"},
        edge_attr={
            "fontname": "Helvetica",
            "fontsize": LABEL_PT,
            "arrowsize": "0.7",
            "labelfloat": "false",  # labels are laid out with the graph, not dropped on it
        },
    )
    side = loop_side(ir.direction)
    initial = {n.id for n in ir.nodes if n.initial}
    for n in ir.nodes:
        d.node(
            n.id,
            label=graphviz.escape(n.label),
            shape=n.shape,
            style=n.style,
            color=n.color,
            fillcolor=n.fillcolor,
            fontcolor=n.fontcolor,
            peripheries=str(n.peripheries),
            penwidth=f"{n.penwidth:g}",
            tooltip=graphviz.escape(n.tooltip),
        )
    loops: dict[str, list[EdgeIR]] = {}
    for e in ir.edges:
        if e.source == e.target:
            loops.setdefault(e.source, []).append(e)
    for e in ir.edges:
        if e.source == e.target and len(loops[e.source]) > 1:
            continue  # drawn below, as one loop
        looped = e.source == e.target and e.source in initial
        d.edge(
            f"{e.source}:{side}" if looped else e.source,
            f"{e.target}:{side}" if looped else e.target,
            label=graphviz.escape(e.label),
            color=e.color,
            fontcolor=e.color,
            style=e.style,
            penwidth=f"{e.penwidth:g}",
            constraint="true" if e.constraint else "false",
            tooltip=graphviz.escape(e.label),
        )
    for node, edges in loops.items():
        if len(edges) > 1:
            _one_loop(d, node, edges, side if node in initial else "")
    if ir.legend:
        _legend(d, ir.legend)
    source: str = d.source
    return source


def loop_side(direction: str) -> str:
    """The side of the initial status its self-loops are drawn on: one no edge uses.

    dot puts a loop (and its label) on the east side, where the back edges into the
    initial status (releases, rejections in a claim, a reopen) arrive and cross the label.
    The initial status sits alone in its rank, so the other side is free (elsewhere dot
    reserves room on the east side only, and a west loop lands on a neighbour).
    """
    return "n" if direction in {"LR", "RL"} else "w"


def _one_loop(d: Any, node: str, edges: list[EdgeIR], side: str = "") -> None:
    """Several self-loops of one status as one loop with one line per edge.

    dot places the labels of a status's loops on top of each other; one loop whose
    label lists each edge (in its own colour, with its own count) stays readable.
    """
    lines = "".join(
        f'<font color="{e.color}">{html.escape(e.label)}</font><br align="left"/>' for e in edges
    )
    busiest = max(edges, key=lambda e: (e.penwidth, e.count or 0))
    at = f"{node}:{side}" if side else node
    d.edge(
        at,
        at,
        label=f"<{lines}>",
        color=busiest.color,
        style=busiest.style,
        penwidth=f"{busiest.penwidth:g}",
        tooltip="; ".join(e.label for e in edges),
    )


def _legend(d: Any, legend: tuple[tuple[str, str, str], ...]) -> None:
    """A boxed key: one short sample edge per style, labelled, in its own cluster."""
    graphviz = _graphviz()
    with d.subgraph(name="cluster_legend") as key:
        key.attr(label="legend", fontsize=LABEL_PT, color="#bbbbbb", style="rounded")
        for i, (label, color, style) in reversed(list(enumerate(legend))):  # dot stacks upward
            ends = (f"legend_{i}_a", f"legend_{i}_b")
            for end in ends:
                key.node(end, label="", shape="point", width="0.04", color=color)
            key.edge(
                *ends,
                label=graphviz.escape(label),
                color=color,
                fontcolor=color,
                style=style,
                penwidth="2",
                arrowhead="none",
            )


def _mermaid_text(text: str) -> str:
    return '"' + text.replace('"', "#quot;").replace("\n", "<br>") + '"'


_MERMAID_SHAPE = {"box": ("(", ")"), "hexagon": ("{{", "}}")}
_MERMAID_ARROW = {"solid": "-->", "bold": "==>", "dashed": "-.->", "dotted": "-.->"}


def to_mermaid(ir: DiagramIR) -> str:
    """Mermaid ``flowchart`` text of the diagram (statuses get ids ``s0``, ``s1``, ...)."""
    ids = {n.id: f"s{i}" for i, n in enumerate(ir.nodes)}
    lines = [f"flowchart {ir.direction}"]
    for n in ir.nodes:
        opening, closing = ("(((", ")))") if n.terminal else _MERMAID_SHAPE.get(n.shape, ("[", "]"))
        classes = [c for c in ("initial", "terminal", "failure", "claim") if getattr(n, c)]
        if "dashed" in n.style and not n.claim:
            classes.append("undeclared")
        suffix = f":::{classes[-1]}" if classes else ""
        lines.append(f"    {ids[n.id]}{opening}{_mermaid_text(n.label)}{closing}{suffix}")
    for e in ir.edges:
        arrow = _MERMAID_ARROW.get(e.style, "-->")
        lines.append(f"    {ids[e.source]} {arrow}|{_mermaid_text(e.label)}| {ids[e.target]}")
    for i, e in enumerate(ir.edges):
        dash = ",stroke-dasharray:5 5" if not e.declared else ""
        lines.append(f"    linkStyle {i} stroke:{e.color},stroke-width:{e.penwidth:g}px{dash}")
    lines += [
        "    classDef initial fill:#e3f0fb,stroke-width:2px",
        "    classDef terminal stroke-width:2px",
        "    classDef failure fill:#fde3e3,stroke:#d62728,color:#d62728",
        "    classDef claim stroke-dasharray:4 3",
        "    classDef undeclared stroke:#d62728,stroke-dasharray:4 3",
    ]
    return "\n".join(lines) + "\n"

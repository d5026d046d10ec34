"""Path analysis of a workflow: reachability, dead ends, cycles and paths to terminal statuses.

Every property is computed with a networkx algorithm on the workflow graph collapsed to one
edge per (from, to) pair; enumerations are bounded so a large workflow answers quickly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from html import escape
from itertools import islice
from types import MappingProxyType

import networkx as nx

from wfnb._html import table
from wfnb.analysis.graph import graph, requester_view, status_graph
from wfnb.spec import Workflow

__all__ = ["EDGE_WORDS", "AloneReport", "PathReport", "alone", "paths"]

StatusPath = tuple[str, ...]


EDGE_WORDS = {
    "step": "a step",
    "auto_advance": "a step that auto-advances",
    "override": "a step as overridden",
    "rejection": "a rejection",
    "claim": "a claim",
    "claim_release": "a claim released",
    "observed": "an outside observation",
    "timer": "a timer",
    "janitor": "the janitor",
    "failure": "a permanent failure",
}
"""Each edge kind (``wfnb.analysis.graph.EdgeKind``) in words, for the path texts."""


@dataclass(frozen=True, slots=True)
class PathReport:
    """What a reviewer asks of a workflow's graph, for everyone or for one requester type.

    Attributes:
        workflow: the workflow's name.
        requester_type: ``None`` for the whole graph, else the requester whose edges alone
            were followed.
        initial: the initial status.
        reachable: statuses reachable from the initial status (the initial one included).
        unreachable: declared statuses that cannot be reached from the initial status.
        dead_ends: non-terminal statuses with no edge to another status. For a requester,
            only the statuses it can reach (the places where it gets stuck).
        cycles: simple cycles (status sequences, the first status not repeated at the end),
            at most ``max_paths`` of them.
        cycles_truncated: there are more than ``max_paths`` cycles.
        paths_to_terminal: per terminal status, the simple paths from the initial status,
            at most ``max_paths`` per terminal.
        path_counts: per terminal status, how many paths were found (a lower bound when the
            terminal is in ``truncated``).
        truncated: terminal statuses with more than ``max_paths`` paths.
        shortest: per terminal status, a shortest path (fewest transitions), or ``None``
            when it cannot be reached.
        max_paths: the bound used.
        ways_in: per terminal status, every edge that enters it, as ``(from status, edge
            kind, label)``: steps, observations, timers, janitors and permanent failures
            (``failure``, e.g. ``sending → undeliverable`` when a claimed send fails for
            good). Paths are status sequences; this says what moves along their last hop.
        acts_at: the statuses where the followed edges start (for a requester: where it can
            act at all, whether or not it gets there alone).
    """

    workflow: str
    requester_type: str | None
    initial: str
    reachable: frozenset[str]
    unreachable: tuple[str, ...]
    dead_ends: tuple[str, ...]
    cycles: tuple[StatusPath, ...]
    cycles_truncated: bool
    paths_to_terminal: Mapping[str, tuple[StatusPath, ...]]
    path_counts: Mapping[str, int]
    truncated: frozenset[str]
    shortest: Mapping[str, StatusPath | None]
    max_paths: int
    ways_in: Mapping[str, tuple[tuple[str, str, str], ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    acts_at: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """No unreachable status, no dead end, and every terminal status reachable."""
        return (
            not self.unreachable
            and not self.dead_ends
            and all(p is not None for p in self.shortest.values())
        )

    def count_text(self, terminal: str) -> str:
        """``"3"``, or ``"more than 1000"`` when the enumeration was cut."""
        n = self.path_counts.get(terminal, 0)
        return f"more than {n}" if terminal in self.truncated else str(n)

    def __repr__(self) -> str:
        who = f" as {self.requester_type!r}" if self.requester_type else ""
        return (
            f"<PathReport {self.workflow!r}{who}: {len(self.unreachable)} unreachable, "
            f"{len(self.dead_ends)} dead ends, {len(self.cycles)} cycles>"
        )

    def question(self) -> str:
        """What this report answers, in words (for a requester: "alone" spelled out)."""
        if self.requester_type is None:
            return f"Where can an entity of {self.workflow} go from {self.initial}, by any edge?"
        return (
            f"Starting at {self.initial}, where can {self.requester_type} take an entity of "
            f"{self.workflow} with nobody else acting (no other requester type, no outside "
            "observation, no janitor; only its own steps and the timers that run as it)?"
        )

    def answer(self) -> str:
        """The answer to :meth:`question` in one or two sentences."""
        if self.requester_type is None:
            return f"It can reach {len(self.reachable)} of its statuses."
        rt = self.requester_type
        order = {s: i for i, s in enumerate((self.initial, *self.acts_at))}
        reached = sorted(self.reachable, key=lambda s: (order.get(s, len(order)), s))
        reached.remove(self.initial)
        reached.insert(0, self.initial)
        if reached == [self.initial]:
            text = (
                f"Alone, {rt} cannot move an entity out of {self.initial}: "
                f"none of its steps or timers applies there."
            )
        else:
            text = f"Alone, {rt} takes an entity from {self.initial} to {', '.join(reached[1:])}"
            stuck = [s for s in self.dead_ends if s != self.initial]
            text += f", and no further than {', '.join(stuck)}." if stuck else "."
        elsewhere = [s for s in self.acts_at if s not in self.reachable]
        if elsewhere:
            text += (
                f" It also acts at {', '.join(elsewhere)}, once someone else has moved the "
                "entity there."
            )
        return text

    def cannot_start(self) -> bool:
        """The requester cannot act at the initial status: nothing starts there for it alone."""
        return self.requester_type is not None and self.reachable == {self.initial}

    def dead_end_text(self) -> str:
        """The dead ends in words; a requester who cannot start is said so, not a dead end."""
        if self.cannot_start():
            rest = [s for s in self.dead_ends if s != self.initial]
            said = (
                f"{self.requester_type} cannot act at the initial status {self.initial}: "
                f"no path starts there for {self.requester_type} alone"
            )
            return ", ".join(rest) + f" ({said})" if rest else said
        return ", ".join(self.dead_ends) or "-"

    def terminal_text(self, terminal: str) -> str:
        """``"3 paths, the shortest a -> b -> c"`` or ``"not reachable from start"``."""
        path = self.shortest.get(terminal)
        if not path:
            alone = f" by {self.requester_type} alone" if self.requester_type else ""
            return f"not reachable from {self.initial}{alone}"
        count = self.count_text(terminal)
        if count == "1":
            return f"1 path: {' -> '.join(path)}"
        return f"{count} paths, the shortest {' -> '.join(path)}"

    def __str__(self) -> str:
        who = f" (as {self.requester_type})" if self.requester_type else ""
        lines = [f"paths of {self.workflow}{who}, from {self.initial}"]
        if self.requester_type:
            lines += [f"  question: {self.question()}", f"  answer:   {self.answer()}"]
        lines += [
            f"  unreachable: {', '.join(self.unreachable) or '-'}",
            f"  dead ends:   {self.dead_end_text()}",
            f"  cycles:      {len(self.cycles)}{'+' if self.cycles_truncated else ''}",
        ]
        lines += [f"    {' -> '.join((*c, c[0]))}" for c in self.cycles[:10]]
        for terminal in self.shortest:
            lines.append(f"  to {terminal}: {self.terminal_text(terminal)}")
            lines += [f"    entered from {u}: {label} ({EDGE_WORDS.get(kind, kind)})"
                      for u, kind, label in self.ways_in.get(terminal, ())]  # fmt: skip
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        who = f" as <code>{escape(self.requester_type)}</code>" if self.requester_type else ""
        ask = ""
        if self.requester_type:
            ask = (
                f"<p><b>Question:</b> {escape(self.question())}<br>"
                f"<b>Answer:</b> {escape(self.answer())}</p>"
            )
        facts = table(
            ["property", "statuses"],
            [
                ("unreachable", ", ".join(self.unreachable) or "-"),
                ("dead ends", self.dead_end_text()),
                ("cycles", "; ".join(" → ".join((*c, c[0])) for c in self.cycles[:20]) or "-"),
            ],
        )
        terminals = table(
            ["terminal", "paths", "shortest", "entered by"],
            [
                (
                    t,
                    self.count_text(t),
                    " → ".join(p) if p else self.terminal_text(t),
                    "; ".join(
                        f"{label} ({EDGE_WORDS.get(kind, kind)}) from {u}"
                        for u, kind, label in self.ways_in.get(t, ())
                    ),
                )
                for t, p in self.shortest.items()
            ],
        )
        head = f"<b>paths of {escape(self.workflow)}</b>{who}"
        return f"<div>{head}{ask}<br>{facts}<br>{terminals}</div>"


def _dead_ends(g: nx.DiGraph, terminals: set[str], among: set[str]) -> tuple[str, ...]:
    return tuple(
        s
        for s in g.nodes
        if s in among and s not in terminals and not any(t != s for t in g.successors(s))
    )


def _paths_to(
    g: nx.DiGraph, initial: str, reachable: set[str], terminal: str, bound: int
) -> tuple[StatusPath, ...]:
    if terminal not in reachable:
        return ()
    # Only statuses on some way to the terminal can be on a path to it: searching the rest
    # is wasted (and with long workflows, most of the search).
    useful = g.subgraph(reachable & (nx.ancestors(g, terminal) | {terminal}))
    found = islice(nx.all_simple_paths(useful, initial, terminal), bound + 1)
    return tuple(tuple(p) for p in found)


def _canonical(cycle: tuple[str, ...], order: dict[str, int]) -> tuple[str, ...]:
    """The cycle rotated to start at its earliest-declared status."""
    start = min(range(len(cycle)), key=lambda i: order.get(cycle[i], len(order)))
    return cycle[start:] + cycle[:start]


def paths(wf: Workflow, requester_type: str | None = None, *, max_paths: int = 1000) -> PathReport:
    """Reachability, dead ends, cycles and paths from the initial status to each terminal.

    Args:
        wf: a loaded workflow.
        requester_type: follow only the edges this requester type alone can trigger: the
            steps it may run after its overrides, their rejections and claim detours, and the
            timers that run as it; observed transitions are left out (the outside world
            triggers them). ``None`` follows every edge.
        max_paths: bound on the paths enumerated per terminal status and on the cycles.

    Raises:
        WfnbUsageError: ``requester_type`` is not declared by the workflow.
    """
    full = graph(wf)
    multi = full if requester_type is None else requester_view(full, requester_type)
    g = status_graph(multi)
    initial = wf.initial_status
    reachable = nx.descendants(g, initial) | {initial} if initial in g else set()
    terminals = set(wf.terminal_statuses)
    among = set(g.nodes) if requester_type is None else reachable
    order = {s: i for i, s in enumerate(wf.status_types)}
    cycles = sorted(
        (_canonical(tuple(c), order) for c in islice(nx.simple_cycles(g), max_paths + 1)),
        key=lambda c: (len(c), [order.get(s, len(order)) for s in c]),
    )  # networkx's order follows set iteration: sort, so reports are reproducible
    found = {t: _paths_to(g, initial, reachable, t, max_paths) for t in wf.terminal_statuses}
    from_initial = nx.shortest_path(g, source=initial) if initial in g else {}
    return PathReport(
        workflow=wf.name,
        requester_type=requester_type,
        initial=initial,
        reachable=frozenset(reachable),
        unreachable=tuple(s for s in wf.status_types if s not in reachable),
        dead_ends=_dead_ends(g, terminals, among),
        cycles=tuple(cycles[:max_paths]),
        cycles_truncated=len(cycles) > max_paths,
        paths_to_terminal=MappingProxyType({t: p[:max_paths] for t, p in found.items()}),
        path_counts=MappingProxyType({t: min(len(p), max_paths) for t, p in found.items()}),
        truncated=frozenset(t for t, p in found.items() if len(p) > max_paths),
        shortest=MappingProxyType(
            {t: tuple(from_initial[t]) if t in from_initial else None for t in found}
        ),
        max_paths=max_paths,
        ways_in=MappingProxyType(
            {
                t: tuple(
                    (u, str(d["kind"]), str(d["label"]))
                    for u, _, d in multi.in_edges(t, data=True)
                    if u != t
                )
                for t in wf.terminal_statuses
            }
        ),
        acts_at=tuple(s for s in wf.status_types if any(v != s for _, v in multi.out_edges(s))),
    )


@dataclass(frozen=True, slots=True)
class AloneReport:
    """For each requester type of a workflow: what it can do on its own (see :func:`alone`)."""

    workflow: str
    initial: str
    reports: Mapping[str, PathReport]
    statuses: tuple[str, ...] = ()

    QUESTION = (
        "Starting at the initial status, where can each requester type take an entity with "
        "nobody else acting (no other requester type, no outside observation, no janitor)? "
        "And where can it act at all, once others have moved the entity there?"
    )

    def rows(self) -> list[tuple[str, str, str, str]]:
        """``(requester, reaches alone from the start, stuck at, also acts at)`` per type."""
        out = []
        order = {s: i for i, s in enumerate(self.statuses)}
        for rt, p in self.reports.items():
            reached = sorted(p.reachable, key=lambda s: (order.get(s, len(order)), s))
            elsewhere = [s for s in p.acts_at if s not in p.reachable]
            if p.cannot_start():
                out.append((rt, f"none: cannot act at {p.initial}", "-", ", ".join(elsewhere)))
                continue
            out.append(
                (
                    rt,
                    ", ".join(reached) or "-",
                    ", ".join(p.dead_ends) or "-",
                    ", ".join(elsewhere) or "-",
                )
            )
        return out

    def __str__(self) -> str:
        lines = [f"{self.workflow}: {self.QUESTION}"]
        for rt, p in self.reports.items():
            lines.append(f"  {rt}: {p.answer()}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        headers = [
            "requester type",
            f"alone, from {self.initial}, reaches",
            "stuck at",
            "also acts at (after others)",
        ]
        return (
            f"<div><b>{escape(self.workflow)}</b>: {escape(self.QUESTION)}"
            + table(headers, self.rows())
            + "</div>"
        )

    def __repr__(self) -> str:
        return f"<AloneReport {self.workflow!r}: {', '.join(self.reports)}>"


def alone(wf: Workflow, *, max_paths: int = 1000) -> AloneReport:
    """What each requester type of ``wf`` can do alone, with the question in the display.

    ``paths(wf, requester_type=rt).reachable`` answers one narrow question (from the
    initial status, with nobody else acting); this puts it beside where ``rt`` acts at all,
    so an answer like "admin reaches only pending_email_verification" is not read as
    "admin can do nothing".
    """
    reports = {rt: paths(wf, rt, max_paths=max_paths) for rt in wf.requester_types}
    return AloneReport(wf.name, wf.initial_status, MappingProxyType(reports), wf.status_types)

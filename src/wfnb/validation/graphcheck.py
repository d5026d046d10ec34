"""Graph checks with networkx: WF106 orphaned statuses and WF107 endless auto-advance chains.

The transition graph has one node per declared status and an edge for every way a status can
change, per requester type that may run the step (its override applied): the successful
state, the rejection state, the claim detour (into the claim status, out to the successful
state, or back when the action fails), a permanent failure of a step that runs a use case
(into every failure status), and observed transitions. A timer runs one of the steps, so it
adds no edge of its own (a timer whose step cannot run at its status is WF109).
"""

from __future__ import annotations

from collections.abc import Iterator

import networkx as nx

from wfnb.problems import Problem, Severity
from wfnb.spec import Step, Workflow
from wfnb.validation.context import Checked

__all__ = ["check_auto_advance", "check_orphans", "transition_graph"]


def _views(step: Step, wf: Workflow) -> tuple[Step, ...]:
    """The step as each requester type that may run it sees it, each distinct view once."""
    allowed = wf.requester_types if step.requester_types is None else step.requester_types
    if not step.overrides:
        return (step,) if allowed else ()
    base = (step,) if any(r not in step.overrides for r in allowed) else ()
    return base + tuple(step.for_requester(r) for r in step.overrides if r in allowed)


def transition_graph(wf: Workflow) -> nx.DiGraph:
    """Every way an entity's status can change, as a DiGraph of declared statuses."""
    edges = {(seen.from_, seen.to) for seen in wf.observed_transitions}
    for step in wf.steps:
        here = step.status
        for view in _views(step, wf):
            edges.add((here, view.successful_state))
            if view.rejection is not None:
                edges.add((here, view.rejection.state))
            if view.claim is not None:
                claim = view.claim.status
                edges.update(((here, claim), (claim, view.successful_state), (claim, here)))
            if view.validation is not None or view.action is not None:
                edges.update((here, failure) for failure in wf.failure_statuses)
    declared = set(wf.status_types)
    graph = nx.DiGraph()
    graph.add_nodes_from(wf.status_types)
    # an edge with an undeclared end is WF103's (or WF108's) business
    graph.add_edges_from((a, b) for a, b in edges if a in declared and b in declared)
    return graph


def _finishing(graph: nx.DiGraph, terminal: set[str]) -> set[str]:
    """Statuses from which some terminal status can be reached."""
    ends = [t for t in terminal if t in graph]
    if not ends:
        return set()
    layers = nx.bfs_layers(graph.reverse(copy=False), ends)
    return {status for layer in layers for status in layer}


def check_orphans(c: Checked, graph: nx.DiGraph) -> Iterator[Problem]:
    """WF106: unreachable statuses and dead ends (errors); traps with no way to an end (warnings).

    Skipped when parts of the workflow were left out for schema problems: they may hold the
    missing edges.
    """
    if not c.complete:
        return
    wf = c.workflow
    terminal = set(wf.terminal_statuses)
    start = wf.initial_status
    reachable = nx.descendants(graph, start) | {start} if start in graph else None
    finishing = _finishing(graph, terminal)
    first: dict[str, int] = {}
    for i, status in enumerate(wf.status_types):
        first.setdefault(status, i)
    for status, i in first.items():
        ways_out = any(n != status for n in graph.successors(status))
        if reachable is not None and status not in reachable:
            message = f"status {status!r} cannot be reached from initial status {start!r}"
            yield c.problem("WF106", c.at("status_types", i), message)
        elif status not in terminal and status not in wf.claim_statuses and not ways_out:
            message = (
                f"non-terminal status {status!r} has no way out "
                "(no step, observed transition or timer leaves it)"
            )
            yield c.problem("WF106", c.at("status_types", i), message)
        elif finishing and status not in finishing:
            message = f"no path leads from status {status!r} to a terminal status"
            yield c.problem("WF106", c.at("status_types", i), message, Severity.WARNING)


def _auto_graph(wf: Workflow, requester: str, at: dict[str, list[int]]) -> nx.DiGraph:
    """Step index -> the step auto-advance runs next for ``requester`` (only where exactly one).

    Each step has at most one successor, so every cycle is a strongly connected component
    (or a self-loop), and a walk along successors lists it in order.
    """
    graph = nx.DiGraph()
    for i, step in enumerate(wf.steps):
        override = step.overrides.get(requester)
        view = step if override is None else step.for_requester(requester)
        if not (view.auto_advance and step.allows(requester)):
            continue
        target = view.successful_state
        following = [j for j in at.get(target, ()) if wf.steps[j].allows(requester)]
        if len(following) == 1:
            graph.add_edge(i, following[0])
    return graph


def _cycles(graph: nx.DiGraph) -> Iterator[tuple[int, ...]]:
    """Each cycle of a graph of out-degree at most one, from its smallest node, in order."""
    for component in nx.strongly_connected_components(graph):
        if len(component) == 1 and not graph.has_edge(*component, *component):
            continue
        cycle = [min(component)]
        while (nxt := next(iter(graph.successors(cycle[-1])))) != cycle[0]:
            cycle.append(nxt)
        yield tuple(cycle)


def check_auto_advance(c: Checked) -> Iterator[Problem]:
    """WF107: an auto-advance chain that comes back to a step it ran (per requester type)."""
    wf = c.workflow
    at: dict[str, list[int]] = {}
    for j, step in enumerate(wf.steps):
        at.setdefault(step.status, []).append(j)
    cycles: dict[tuple[int, ...], list[str]] = {}
    for requester in dict.fromkeys(wf.requester_types):
        for cycle in _cycles(_auto_graph(wf, requester, at)):
            cycles.setdefault(cycle, []).append(requester)
    for cycle, requesters in cycles.items():
        first = wf.steps[cycle[0]]
        override = next(
            (r for r in requesters if r in first.overrides and first.overrides[r].auto_advance),
            None,
        )
        where = (
            c.at("steps", cycle[0], "overrides", override, "auto_advance")
            if override is not None
            else c.at("steps", cycle[0], "auto_advance")
        )
        chain = " → ".join(wf.steps[i].key for i in (*cycle, cycle[0]))
        who = ", ".join(repr(r) for r in requesters)
        message = f"auto-advance never stops for requester type {who}: {chain}"
        yield c.problem("WF107", where, message)

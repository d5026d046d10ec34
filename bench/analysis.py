"""Benchmark: graph + paths + SVG of a generated 1000-status workflow, against a raw floor.

The workflow is valid: a long chain of statuses with branches (a skip ahead every 7th status,
a rejection back every 5th, a way to the failure status every 50th, a claim detour every
25th, a timer every 20th and an observed transition every 30th). It times, best of N:
``wfnb.analysis.graph(wf)``, ``wfnb.analysis.paths(wf)`` (bounded at 1000 paths) and
``diagram(wf).svg()`` (laid out by ``dot`` or ``graphviz-pure``). Target: all three under
5 s in total. The floor is the same networkx MultiDiGraph built by a plain ``add_edge`` loop
over precomputed edges; the ratio ``graph / floor`` is printed last.

    python bench/analysis.py            # 1000 statuses, best of 3
    python bench/analysis.py --smoke    # 40 statuses, best of 1 (CI)
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import networkx as nx

from _common import best
from wfnb.analysis import diagram, graph, paths
from wfnb.spec import Workflow


def generate(statuses: int) -> Workflow:
    """A valid chain of ``statuses`` statuses (the last two terminal) with branches."""
    names = [f"s{i:04}" for i in range(statuses - 2)]
    done, failed = "done", "failed"
    chain = [*names, done]
    claims = {n for i, n in enumerate(names) if i % 25 == 24}
    steps: list[dict[str, Any]] = []
    for i, status in enumerate(names):
        if status in claims:
            continue  # entered only through the claim detour of the step before it
        nxt = chain[i + 1]
        step: dict[str, Any] = {"key": f"next_{i}", "status": status, "successful_state": nxt}
        if nxt in claims:
            step["claim"] = {"status": nxt, "stale_after": "PT10M"}
            step["successful_state"] = chain[i + 2]
        if i % 5 == 4:
            step["rejection"] = {"state": names[i - 1]}
        steps.append(step)
        if i % 7 == 3 and i + 2 < len(chain) and chain[i + 2] not in claims:
            steps.append({"key": f"skip_{i}", "status": status, "successful_state": chain[i + 2]})
        if i % 50 == 10:
            steps.append(
                {
                    "key": f"fail_{i}",
                    "status": status,
                    "requester_types": ["admin", "system"],
                    "successful_state": failed,
                }
            )
    keys = {s["key"] for s in steps}
    timers = [
        {
            "key": f"t_{i}",
            "status": n,
            "after": "P7D",
            "step": f"next_{i}",
            "requester_type": "system",
        }
        for i, n in enumerate(names)
        if i % 20 == 0 and f"next_{i}" in keys
    ]
    observed = [
        {"from": n, "to": chain[i + 3], "source": "hub"}
        for i, n in enumerate(names)
        if i % 30 == 1 and n not in claims and i + 3 < len(chain)
    ]
    return Workflow.model_validate(
        {
            "name": "big",
            "owning_module": "bench",
            "entity": {"table": "big"},
            "use_cases": "json",
            "requester_types": ["user", "admin", "system"],
            "status_types": [*names, done, failed],
            "initial_status": names[0],
            "terminal_statuses": [done, failed],
            "failure_statuses": [failed],
            "steps": steps,
            "observed_transitions": observed,
            "timers": timers,
        }
    )


def floor_edges(g: nx.MultiDiGraph) -> list[tuple[str, str, str, dict[str, Any]]]:
    return [(u, v, k, dict(d)) for u, v, k, d in g.edges(keys=True, data=True)]


def floor(nodes: list[str], edges: list[tuple[str, str, str, dict[str, Any]]]) -> nx.MultiDiGraph:
    g = nx.MultiDiGraph()
    for n in nodes:
        g.add_node(n)
    for u, v, k, d in edges:
        g.add_edge(u, v, key=k, **d)
    return g


def _check_valid(wf: Workflow) -> int:
    try:
        from wfnb.validation import validate
    except ImportError:  # the validator is optional for this benchmark
        return 0
    problems = [p for p in validate([wf]).problems if p.severity == "error"]
    for p in problems[:5]:
        print(p)
    return len(problems)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--smoke", action="store_true", help="a small workflow, one run")
    args = parser.parse_args(argv)
    statuses, runs = (40, 1) if args.smoke else (1000, 3)
    wf = generate(statuses)
    if _check_valid(wf):
        return 1
    g = graph(wf)
    size = f"{g.number_of_nodes()} statuses, {g.number_of_edges()} edges, {len(wf.steps)} steps"
    print(f"workflow: {size}, {len(wf.timers)} timers, {len(wf.claim_statuses)} claims")
    nodes, edges = list(wf.status_types), floor_edges(g)
    t_floor, _ = best(lambda: floor(nodes, edges), runs)
    t_graph, _ = best(lambda: graph(wf), runs)
    t_paths, _ = best(lambda: paths(wf), runs)
    report = paths(wf)
    found = f"{report.count_text('done')} to done, {len(report.cycles)} cycles"
    print(
        f"paths: {found}, {len(report.unreachable)} unreachable, {len(report.dead_ends)} dead ends"
    )
    t_svg, _ = best(lambda: diagram(wf).svg(), runs)
    total = t_graph + t_paths + t_svg
    print(f"graph(wf), best of {runs}:          {t_graph * 1000:9.1f} ms")
    print(f"paths(wf), best of {runs}:          {t_paths * 1000:9.1f} ms")
    print(f"diagram(wf).svg(), best of {runs}:  {t_svg * 1000:9.1f} ms")
    print(f"total:                         {total * 1000:9.1f} ms (target < 5000 ms)")
    print(f"floor (plain add_edge loop):   {t_floor * 1000:9.1f} ms")
    print(f"ratio graph / floor: {t_graph / t_floor:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())

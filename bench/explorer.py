"""Benchmark: the explorer on a generated 500-status workflow: first render and a click.

Measured server-side (what the kernel does before the browser can paint or answer):
``Explorer(...)`` (graphviz layout, SVG annotation), one status click (the SQL page, its
count and the dwell buckets, rendered to HTML), and the edge numbers the page asks for
after its first paint
(``discover`` over the whole history: each entity walked the chain, ~250 rows each). The
browser's own part (inserting the SVG, one message over the comm) is not timed here. The
floor is graphviz alone laying out the same workflow (``diagram(wf).svg()``) in the same
run: first render should stay within 10x of it; targets from issue 19: first render < 2 s,
click < 300 ms (printed, not asserted). Ratios printed last.

    python bench/explorer.py [--smoke]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from wfnb.analysis import diagram
from wfnb.jupyter.explore.widget import Explorer
from wfnb.spec import Workflows
from wfnb.store import HISTORY, queries
from wfnb.testing import create_entity_table, make_workflow, sqlite_engine


def workflow_fields(n: int) -> dict[str, Any]:
    """The fields :func:`workflow` sets over ``wfnb.testing.DEFAULT_WORKFLOW``."""
    names = [f"s{i:03d}" for i in range(n)]
    steps = []
    for i, s in enumerate(names[:-1]):
        steps.append({"key": f"next_{i}", "status": s, "successful_state": names[i + 1]})
        if i % 7 == 0 and i + 2 < n:
            steps.append({"key": f"skip_{i}", "status": s, "successful_state": names[i + 2]})
        if i % 11 == 5:
            steps.append({"key": f"back_{i}", "status": s, "successful_state": names[i - 3]})
    return {
        "name": "big", "entity": {"table": "bigs"}, "status_types": names,
        "initial_status": names[0], "terminal_statuses": [names[-1]], "failure_statuses": [],
        "steps": steps, "timers": [], "observed_transitions": [],
    }  # fmt: skip


def workflow(n: int) -> Any:
    """``n`` statuses in a chain, a skip every 7th, a way back every 11th."""
    return make_workflow(**workflow_fields(n))


def fill(db: sa.Engine, wf: Any, per_status: int) -> None:
    """``per_status`` entities at each status, each with the history that walked it there."""
    table = create_entity_table(db, wf)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    entities, history = [], []
    for i, status in enumerate(wf.status_types):
        for k in range(per_status):
            eid = f"e{i:03d}_{k:03d}"
            entities.append({"id": eid, "status": status, "version": i})
            for j in range(i + 1):
                history.append({
                    "workflow": wf.name, "entity_table": "bigs", "entity_id": eid,
                    "step_key": f"next_{j - 1}" if j else None,
                    "kind": "initiated", "from_status": wf.status_types[j - 1] if j else None,
                    "to_status": wf.status_types[j], "config_hash": wf.config_hash,
                    "metadata": {}, "changed_at": start + timedelta(hours=j * 5 + k),
                })  # fmt: skip
    with db.begin() as conn:
        queries.create_engine_tables(conn)
        conn.execute(sa.insert(table), entities)
        conn.execute(sa.insert(HISTORY), history)


def timed(fn: Any) -> tuple[float, Any]:
    """Seconds of one call of ``fn``, and its result."""
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def main() -> None:
    """Run and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="60 statuses: a quick check")
    args = parser.parse_args()
    n, per = (60, 3) if args.smoke else (500, 4)
    wf = workflow(n)
    with tempfile.TemporaryDirectory(prefix="wfnb-bench-") as folder:
        db = sqlite_engine(Path(folder))
        fill(db, wf, per)
        with db.connect() as conn:
            rows = conn.execute(sa.select(sa.func.count()).select_from(HISTORY)).scalar_one()
        floor, _ = timed(lambda: diagram(wf).svg())
        first, x = timed(lambda: Explorer(db, Workflows({wf.name: wf}), wf.name))
        assert x.message == "", x.message
        sent: list[dict[str, Any]] = []
        x.send = sent.append
        stats, _ = timed(lambda: x._on_message(x, {"kind": "edges"}, None))
        status = wf.status_types[n // 2]
        click, _ = timed(lambda: x._on_message(x, {"kind": "status", "status": status}, None))
        assert sent[-1]["total"] == per, sent[-1]
        db.dispose()
    print(f"statuses: {n}, edges drawn: {x.svg.count('data-edge')}, svg: {len(x.svg):,} chars")
    print(f"graphviz layout alone (floor): {floor:.3f} s")
    print(f"first render (server side):    {first:.3f} s (target < 2 s)")
    print(f"status click (server side):    {click * 1000:.1f} ms (target < 300 ms)")
    print(f"edge numbers for hovers (after the first paint): {stats:.3f} s, {rows:,} rows")
    print(f"first render / floor: {first / floor:.2f}x (target <= 10x)")


if __name__ == "__main__":
    main()

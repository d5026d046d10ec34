"""Benchmark: simulated transitions per second vs plain ``execute_step`` on the same database.

The floor drives N tickets (the ``wfnb.testing`` workflow, without timers) through the
same path by hand: insert, ``Engine.created``, submit (auto-advances to triaged), resolve
(a claim), close. The simulation drives N other tickets through the same steps with a
scenario, so the ratio (simulation time per history row / floor time per history row)
is what the event heap, sampling and payload recording add. ``build_demo`` at full size
is timed too. Ratios print last.

    python bench/simulate.py --db sqlite|pg|both [--smoke]
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from _common import database
from wfnb import testing
from wfnb.engine import Engine
from wfnb.simulation import simulate
from wfnb.simulation.demo import build_demo
from wfnb.store import HISTORY
from wfnb.timers import InMemoryQueue, VirtualClock

START = datetime(2026, 5, 1, tzinfo=UTC)
FLOW = [("submit", "user"), ("resolve", "admin"), ("close", "user")]


def _fixed(value: str) -> dict[str, str]:
    return {"dist": "fixed", "value": value}


def scenario(n: int) -> dict[str, object]:
    statuses = {
        "draft": [{"step": "submit", "requester_type": "user", "delay": _fixed("PT1H")}],
        "triaged": [{"step": "resolve", "requester_type": "admin", "delay": _fixed("PT2H")}],
        "resolved": [{"step": "close", "requester_type": "user", "delay": _fixed("PT3H")}],
    }
    return {
        "workflows": {"ticket": {"statuses": statuses}},
        "arrivals": [{"workflow": "ticket", "count": n, "every": "PT10M"}],
    }


def history_rows(db: sa.Engine, prefix: str) -> int:
    with db.connect() as conn:
        query = sa.select(sa.func.count()).where(HISTORY.c.entity_id.startswith(prefix))
        return int(conn.execute(query).scalar_one())


def floor(db: sa.Engine, n: int) -> tuple[float, int]:
    """By hand: per ticket an insert, ``created`` and the three steps; (seconds, rows)."""
    wf = testing.make_workflow(timers=[])
    clock = VirtualClock(start=START)
    engine = Engine([wf], db, queue=InMemoryQueue(clock), clock=clock)
    engine.install()
    table = sa.Table(wf.entity.table, sa.MetaData(), autoload_with=db)
    began = time.perf_counter()
    for i in range(n):
        entity_id = f"floor_{i:06d}"
        with engine.store.transaction() as conn:
            conn.execute(sa.insert(table), [{"id": entity_id, "status": "draft", "version": 1}])
        engine.created("ticket", entity_id, correlation_id=f"floor-{i}")
        for step, requester in FLOW:
            clock.advance(timedelta(hours=1))
            engine.execute_step("ticket", entity_id, requester, step=step, data={})
    return time.perf_counter() - began, history_rows(db, "floor_")


def simulated(db: sa.Engine, n: int) -> tuple[float, int]:
    """The same work through ``simulate``; (seconds, rows)."""
    wf = testing.make_workflow(timers=[])
    report = simulate(db, [wf], scenario(n), start=START, until=timedelta(days=365), progress=False)
    return report.wall_seconds, history_rows(db, "ticket_")


def run(kind: str, n: int, demo_users: int, demo_months: int) -> float:
    with database(kind) as url:
        db = sa.create_engine(url)
        testing.create_entity_table(db, testing.make_workflow(timers=[]))
        floor_s, floor_rows = floor(db, n)
        sim_s, sim_rows = simulated(db, n)
        db.dispose()
        per_floor = floor_s / floor_rows
        per_sim = sim_s / sim_rows
        print(f"[{kind}] execute_step floor: {floor_rows} rows in {floor_s:.2f}s "
              f"({floor_rows / floor_s:.0f} rows/s)")  # fmt: skip
        print(f"[{kind}] simulate:           {sim_rows} rows in {sim_s:.2f}s "
              f"({sim_rows / sim_s:.0f} rows/s)")  # fmt: skip
    with database(kind) as url:
        report = build_demo(url, users=demo_users, months=demo_months, progress=False)
        rows = report.simulation.history_rows
        print(f"[{kind}] build_demo users={demo_users} months={demo_months}: "
              f"{report.build_seconds:.1f}s, {rows} history rows")  # fmt: skip
    return per_sim / per_floor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "pg", "both"], default="sqlite")
    parser.add_argument("--smoke", action="store_true", help="a tiny, quick run")
    args = parser.parse_args()
    n = 30 if args.smoke else 1500
    users, months = (60, 2) if args.smoke else (3000, 6)
    kinds = ["sqlite", "pg"] if args.db == "both" else [args.db]
    ratios = {kind: run(kind, n, users, months) for kind in kinds}
    for kind, ratio in ratios.items():
        print(f"ratio [{kind}] simulate / execute_step per transition: {ratio:.2f} (target <= 1.2)")


if __name__ == "__main__":
    main()

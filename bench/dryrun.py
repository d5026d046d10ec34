"""Benchmark: a dry-run on a database of N entities vs a real ``execute_step`` there.

Each iteration runs the same step (``triage`` on a ``submitted`` ticket, validation and
history row included) for real on a fresh entity and as a dry-run on another one. The
dry-run builds its whole sandbox every time (connection, shadows, engine, copy). Target:
dry-run <= 2x a real step. Ratio printed last.

    python bench/dryrun.py --db sqlite|pg|both [--smoke]
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime

import sqlalchemy as sa

from _common import database
from wfnb import testing
from wfnb.engine import Engine
from wfnb.sandbox import dry_run
from wfnb.spec import Workflows
from wfnb.store import HISTORY


def fill(engine: Engine, n: int) -> None:
    """N tickets at ``submitted``, each with one history row (the submit)."""
    wf = engine.workflow("ticket")
    table = sa.Table("tickets", sa.MetaData(), autoload_with=engine.db)
    now = datetime.now(UTC)
    chunk = 20_000
    with engine.db.begin() as conn:
        for start in range(0, n, chunk):
            ids = [f"t{i:07d}" for i in range(start, min(n, start + chunk))]
            conn.execute(
                sa.insert(table), [{"id": i, "status": "submitted", "version": 1} for i in ids]
            )
            conn.execute(
                sa.insert(HISTORY),
                [
                    {"workflow": "ticket", "entity_table": "tickets", "entity_id": i,
                     "step_key": "submit", "kind": "initiated", "from_status": "draft",
                     "to_status": "submitted", "requester_type": "user",
                     "config_hash": wf.config_hash, "metadata": {}, "changed_at": now,
                     "entity_version": 1}
                    for i in ids
                ],
            )  # fmt: skip


def run(kind: str, n: int, rounds: int) -> float:
    with database(kind) as url:
        wf = testing.make_workflow()
        wfs = Workflows({"ticket": wf})
        engine = Engine(wfs, url)
        engine.install()
        testing.create_entity_table(engine.db, wf)
        t0 = time.perf_counter()
        fill(engine, n)
        print(f"[{kind}] {n} entities loaded in {time.perf_counter() - t0:.1f}s")
        engine.execute_step("ticket", "t0000000", "user")  # warm caches, as a live app has
        dry_run(url, wfs, "ticket", "t0000001", "user")
        real, dry = [], []
        for i in range(rounds):
            t = time.perf_counter()
            engine.execute_step("ticket", f"t{2 + 2 * i:07d}", "user").raise_for_error()
            real.append(time.perf_counter() - t)
            t = time.perf_counter()
            dr = dry_run(url, wfs, "ticket", f"t{3 + 2 * i:07d}", "user")
            dry.append(time.perf_counter() - t)
            assert dr.result.to_status == "triaged", dr
        engine.dispose()
    r, d = statistics.median(real) * 1000, statistics.median(dry) * 1000
    print(f"[{kind}] execute_step median {r:.2f} ms; dry_run median {d:.2f} ms")
    return d / r


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "pg", "both"], default="both")
    parser.add_argument("--smoke", action="store_true", help="2k entities, few rounds")
    args = parser.parse_args()
    n, rounds = (2_000, 20) if args.smoke else (100_000, 100)
    kinds = ["sqlite", "pg"] if args.db == "both" else [args.db]
    ratios = {kind: run(kind, n, rounds) for kind in kinds}
    for kind, ratio in ratios.items():
        print(f"ratio dry_run / execute_step [{kind}, {n} entities]: {ratio:.2f}x (target <= 2x)")


if __name__ == "__main__":
    main()

"""Benchmark: a step with the audit trigger installed vs the same step without it (ADR 0104).

Two fresh databases of one dialect hold the same workflow and entities; one has the audit
trigger (``Engine.install(audit_trigger=True)``), the other not. Steps run on both in
alternating rounds (which goes first alternates too), so machine noise falls on both
alike; the ratio is of the summed times. On PostgreSQL an engine write never calls the
trigger function (the trigger's ``WHEN`` reads the transaction's ``wfnb.writer``); on
SQLite the engine adds a marker row's INSERT and DELETE to its write transaction. The
statements per step (a ``before_cursor_execute`` listener) print too. Ratios print last.

    python bench/audit.py --db sqlite|pg|both [--smoke]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from contextlib import ExitStack
from functools import partial
from typing import Any

import sqlalchemy as sa

from _common import best, database
from wfnb import testing
from wfnb.engine import Engine


def fill(engine: Engine, prefix: str, n: int) -> list[str]:
    ids = [f"{prefix}{i:05d}" for i in range(n)]
    testing.insert_entities(engine.db, engine.workflow("ticket"), ids, status="resolved")
    return ids


def steps(engine: Engine, ids: list[str]) -> None:
    for i in ids:
        engine.execute_step("ticket", i, "admin")


def statements(engine: Engine, fn: Callable[[], Any]) -> int:
    seen: list[str] = []

    def listener(*args: Any) -> None:
        seen.append(args[2])

    sa.event.listen(engine.db, "before_cursor_execute", listener)
    try:
        fn()
    finally:
        sa.event.remove(engine.db, "before_cursor_execute", listener)
    return len(seen)


def run(kind: str, smoke: bool) -> list[tuple[str, float]]:
    rounds, per_round = (2, 25) if smoke else (20, 100)
    with ExitStack() as stack:
        engines = {}
        for audited in (False, True):
            url = stack.enter_context(database(kind))
            engine = Engine([testing.make_workflow()], url)
            stack.callback(engine.dispose)
            testing.create_entity_table(engine.db, engine.workflow("ticket"))
            engine.install(audit_trigger=audited)
            steps(engine, fill(engine, "w", 20))  # warm-up: reflection, caches, pool
            engines[audited] = engine
        times = {False: 0.0, True: 0.0}
        for r in range(rounds):
            order = (False, True) if r % 2 else (True, False)
            ids = {a: fill(engines[a], f"r{r}_", per_round) for a in order}
            for a in order:
                times[a] += best(partial(steps, engines[a], ids[a]))[0]
        counted = {a: fill(engines[a], "c", 1) for a in (False, True)}
        counts = {
            a: statements(engines[a], lambda a=a: steps(engines[a], counted[a])) for a in counted
        }
        manual = {}
        for a, engine in engines.items():
            with engine.db.connect() as conn:
                manual[a] = conn.execute(
                    sa.text("SELECT count(*) FROM workflow_history WHERE kind = 'manual'")
                ).scalar()
    n = rounds * per_round
    assert manual == {False: 0, True: 0}, manual  # the engine's own writes are never manual
    with_, without = times[True] / n * 1e3, times[False] / n * 1e3
    print(f"[{kind}] step with the audit trigger: {with_:.3f} ms, without: {without:.3f} ms "
          f"({n} steps each, {rounds} alternating rounds)")  # fmt: skip
    print(f"[{kind}] statements per step: with {counts[True]}, without {counts[False]}")
    return [(f"{kind} step with trigger / without (target <= 1.1)", times[True] / times[False])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "pg", "both"], default="both")
    parser.add_argument("--smoke", action="store_true", help="a tiny quick run")
    args = parser.parse_args()
    kinds = ["sqlite", "pg"] if args.db == "both" else [args.db]
    ratios = [r for kind in kinds for r in run(kind, args.smoke)]
    print("ratios:")
    for label, value in ratios:
        print(f"  {label}: {value:.2f}x")


if __name__ == "__main__":
    main()

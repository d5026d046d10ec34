"""Benchmark: a slow subscriber does not slow the step; what the outbox trigger costs.

Three ways of running the same steps, in alternating rounds (who goes first alternates):
``no trigger`` with the outbox trigger dropped (the floor of a step that records no event),
``plain`` as shipped with no subscriber, ``slow`` with a subscriber of every ``transition``
that sleeps 0.5 s (issue 16.4: before ADR 0102 it ran inside ``execute_step``, which then
took 0.52 s). Ratios print last; the first is the claim (target <= 1.1), the second what
each step pays for its outbox row.

    python bench/outbox.py [--db sqlite|pg|both] [--smoke]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import sqlalchemy as sa

from _common import best, database
from wfnb import testing
from wfnb.engine import Engine
from wfnb.engine.usecases import Event
from wfnb.store import outbox

SLOW = 0.5
"""Seconds the slow subscriber sleeps per event."""


def fill(engine: Engine, prefix: str, n: int) -> list[str]:
    table = sa.Table("tickets", sa.MetaData(), autoload_with=engine.db)
    ids = [f"{prefix}{i:05d}" for i in range(n)]
    with engine.db.begin() as conn:
        conn.execute(sa.insert(table), [{"id": i, "status": "resolved", "version": 0} for i in ids])
    return ids


def steps(engine: Engine, ids: list[str]) -> None:
    for i in ids:
        assert engine.execute_step("ticket", i, "admin", step="close").ok


def slow_subscriber(_event: Event) -> None:
    time.sleep(SLOW)


def run(kind: str, smoke: bool) -> list[tuple[str, float]]:
    rounds, per_round = (4, 10) if smoke else (6, 60)
    with database(kind) as url:
        wf = testing.make_workflow()
        engine = Engine([wf], url)
        engine.install()
        testing.create_entity_table(engine.db, wf)

        def no_trigger(ids: list[str]) -> None:
            drop = f"DROP TRIGGER IF EXISTS {outbox.TRIGGER}"
            with engine.db.begin() as conn:
                conn.execute(sa.text(f"{drop} ON workflow_history" if kind == "pg" else drop))
            try:
                steps(engine, ids)
            finally:
                with engine.db.begin() as conn:
                    outbox.install_outbox_trigger(conn)

        def slow(ids: list[str]) -> None:
            unsubscribe = engine.events.subscribe("transition", slow_subscriber)
            try:
                steps(engine, ids)
            finally:
                unsubscribe()  # what is queued still drains, on the bus's thread

        ways: dict[str, Callable[[list[str]], None]] = {
            "no trigger": no_trigger,
            "plain": lambda ids: steps(engine, ids),
            "slow": slow,
        }
        for name, way in ways.items():  # warm-up: caches, the pool, the bus's thread
            way(fill(engine, f"warm_{name.replace(' ', '_')}", 5))
        totals = dict.fromkeys(ways, 0.0)
        for r in range(rounds):
            order = list(ways) if r % 2 == 0 else list(reversed(ways))
            for name in order:
                ids = fill(engine, f"{name.replace(' ', '_')}{r}_", per_round)
                totals[name] += best(lambda fn=ways[name], ids=ids: fn(ids))[0]
        backlog = rounds * per_round + 5  # events the slow subscriber has yet to sleep through
        engine.dispose()
    n = rounds * per_round
    print(f"[{kind}] " + ", ".join(f"{k}: {v / n * 1e3:.3f} ms/step" for k, v in totals.items()))
    print(f"[{kind}] the slow subscriber still had up to {backlog * SLOW:.0f} s of events queued")
    slow_label = f"{kind} step with a {SLOW} s subscriber / without (target <= 1.1)"
    row_label = f"{kind} step with its outbox row / without the trigger"
    return [
        (slow_label, totals["slow"] / totals["plain"]),
        (row_label, totals["plain"] / totals["no trigger"]),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "pg", "both"], default="sqlite")
    parser.add_argument("--smoke", action="store_true", help="a tiny quick run")
    args = parser.parse_args()
    kinds = ["sqlite", "pg"] if args.db == "both" else [args.db]
    ratios = [r for kind in kinds for r in run(kind, args.smoke)]
    print("ratios:")
    for label, value in ratios:
        print(f"  {label}: {value:.3g}x")


if __name__ == "__main__":
    main()

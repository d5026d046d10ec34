"""Benchmark: what the per-step run record (ADR 0100) costs, with logging off and on.

First the record call alone, with no handler enabled, against a no-op call of the same
arguments: the difference is what every step pays. Then three ways of running the same
steps, in alternating rounds (who goes first alternates):
``none`` with the record call replaced by a no-op (the floor), ``off`` as shipped with no
handler enabled (the default of a library), ``json`` with ``wfnb.configure_logging
("json")`` writing to ``os.devnull``. Ratios print last; the first of each database is the
claim that an unconfigured engine pays nearly nothing for its logs (the step-level ratios
are as noisy as the machine).

    python bench/logs.py [--db sqlite|pg] [--smoke]
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from _common import best, database
from wfnb import configure_logging, testing
from wfnb.engine import Engine, effects
from wfnb.engine.context import RequestContext
from wfnb.engine.results import Outcome, StepResult
from wfnb.logs import log_step


def fill(engine: Engine, prefix: str, n: int) -> list[str]:
    table = sa.Table("tickets", sa.MetaData(), autoload_with=engine.db)
    ids = [f"{prefix}{i:05d}" for i in range(n)]
    with engine.db.begin() as conn:
        conn.execute(sa.insert(table), [{"id": i, "status": "resolved", "version": 0} for i in ids])
    return ids


def steps(engine: Engine, ids: list[str]) -> None:
    for i in ids:
        engine.execute_step("ticket", i, "admin", step="close")


def micro(n: int) -> tuple[float, float]:
    """Seconds per call: ``log_step`` with its logger disabled, and a no-op call."""
    result = StepResult(Outcome.TRANSITIONED, "ticket", "e1", "close", "resolved", "closed")
    ctx = RequestContext("c-bench", requester_type="admin")

    def noop(*_args: Any) -> None:
        return None

    def loop(fn: Callable[..., None]) -> None:
        for _ in range(n):
            fn(result, ctx, "initiated")

    t_off = best(lambda: loop(log_step), runs=3)[0]
    t_noop = best(lambda: loop(noop), runs=3)[0]
    return t_off / n, t_noop / n


def run(kind: str, smoke: bool, record_cost: float) -> list[tuple[str, float]]:
    rounds, per_round = (2, 20) if smoke else (10, 100)
    root = logging.getLogger("wfnb")
    with database(kind) as url:
        wf = testing.make_workflow()
        engine = Engine([wf], url)
        engine.install()
        testing.create_entity_table(engine.db, wf)

        def none(ids: list[str]) -> None:
            effects.log_step = lambda *_a: None  # type: ignore[assignment]
            try:
                steps(engine, ids)
            finally:
                effects.log_step = log_step

        def json_on(ids: list[str]) -> None:
            with open(os.devnull, "w") as sink:  # noqa: PTH123
                handler = configure_logging("json", "INFO", sink)
                try:
                    steps(engine, ids)
                finally:
                    root.removeHandler(handler)
                    root.setLevel(logging.NOTSET)

        ways: dict[str, Callable[[list[str]], None]] = {
            "none": none,
            "off": lambda ids: steps(engine, ids),
            "json": json_on,
        }
        for name, way in ways.items():  # warm-up: caches, pool, the JSON formatter's import
            way(fill(engine, f"warm_{name}", 10))
        totals = dict.fromkeys(ways, 0.0)
        for r in range(rounds):
            order = list(ways) if r % 2 == 0 else list(reversed(ways))
            for name in order:
                ids = fill(engine, f"{name}{r}_", per_round)
                totals[name] += best(lambda fn=ways[name], ids=ids: fn(ids))[0]
        engine.dispose()
    n = rounds * per_round
    print(f"[{kind}] " + ", ".join(f"{k}: {v / n * 1e3:.3f} ms/step" for k, v in totals.items()))
    off, none_, on = totals["off"], totals["none"], totals["json"]
    return [
        (
            f"{kind} record cost with logging off / one step (target <= 0.001)",
            record_cost / (off / n),
        ),
        (f"{kind} step, logging off / no record call (noise: +-10% here)", off / none_),
        (f"{kind} step, JSON to devnull / logging off", on / off),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "pg", "both"], default="sqlite")
    parser.add_argument("--smoke", action="store_true", help="a tiny quick run")
    args = parser.parse_args()
    t_off, t_noop = micro(2_000 if args.smoke else 200_000)
    print(f"log_step with no handler enabled: {t_off * 1e9:.0f} ns/call "
          f"(a no-op call: {t_noop * 1e9:.0f} ns)")  # fmt: skip
    kinds = ["sqlite", "pg"] if args.db == "both" else [args.db]
    ratios = [r for kind in kinds for r in run(kind, args.smoke, max(t_off - t_noop, 0.0))]
    print("ratios:")
    for label, value in ratios:
        print(f"  {label}: {value:.3g}x")


if __name__ == "__main__":
    main()

"""Benchmark: one step vs the raw floor, and execute_batch vs one execute_step per entity.

The raw floor is the same CAS UPDATE + history INSERT in one transaction, through the
same SQLAlchemy engine and driver. Floor and steps run in alternating rounds (which one
goes first alternates too), so WAL checkpoints, cache warmth and machine noise fall on
both sides alike; the ratio is of the summed times. Statement counts come from a
``before_cursor_execute`` listener. Ratios print last.

    python bench/step.py --db sqlite|pg|both [--smoke]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

import sqlalchemy as sa

from _common import best, database
from wfnb import testing
from wfnb.engine import Engine
from wfnb.spec import Workflow
from wfnb.store import HISTORY


def batch_workflow() -> Workflow:
    steps = [dict(s) for s in testing.DEFAULT_WORKFLOW["steps"]]
    steps[0].update(validation="check_many", action="act_many")
    return testing.make_workflow(steps=steps)


def fill(engine: Engine, wf: Workflow, prefix: str, n: int, status: str) -> list[str]:
    table = sa.Table(wf.entity.table, sa.MetaData(), autoload_with=engine.db)
    ids = [f"{prefix}{i:05d}" for i in range(n)]
    with engine.db.begin() as conn:
        conn.execute(sa.insert(table), [{"id": i, "status": status, "version": 0} for i in ids])
    return ids


def raw_floor(engine: Engine, wf: Workflow) -> Callable[[list[str]], None]:
    """The minimum a step must do: CAS UPDATE + history INSERT, one transaction each.

    The INSERT binds the same columns as the engine's history row (every column but ``id``),
    so both sides write the same row; only the values are constants here.

    Statements are built once with bind parameters (the fastest way through Core), and the
    table is reflected before any timing, so the floor pays no statement-construction or
    reflection cost the engine would not pay either.
    """
    table = sa.Table(wf.entity.table, sa.MetaData(), autoload_with=engine.db)
    update = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("i"), table.c.version == sa.bindparam("v"))
        .values(status=sa.bindparam("s"), version=table.c.version + 1)
    )
    insert = sa.insert(HISTORY)

    def floor(ids: list[str]) -> None:
        for entity_id in ids:
            with engine.db.begin() as conn:
                conn.execute(update, {"i": entity_id, "v": 0, "s": "closed"})
                conn.execute(
                    insert,
                    [{"workflow": wf.name, "entity_table": wf.entity.table, "entity_id": entity_id,
                      "tenant_id": None, "step_key": "close", "kind": "initiated",
                      "from_status": "resolved", "to_status": "closed", "requester_type": "admin",
                      "user_id": None, "correlation_id": "c", "source": None,
                      "config_hash": wf.config_hash, "config_rev": None, "metadata": {},
                      "duration_ms": 0.1, "changed_at": datetime.now(UTC), "entity_version": 1}],
                )  # fmt: skip

    return floor


def steps(engine: Engine, ids: list[str]) -> None:
    for i in ids:
        engine.execute_step("ticket", i, "admin")


def alternating(engine: Engine, wf: Workflow, rounds: int, per_round: int) -> tuple[float, float]:
    """Summed (floor, step) seconds over ``rounds`` rounds, who goes first alternating."""
    floor = raw_floor(engine, wf)
    t_floor = t_step = 0.0
    for r in range(rounds):
        floor_ids = fill(engine, wf, f"f{r}_", per_round, "resolved")
        step_ids = fill(engine, wf, f"s{r}_", per_round, "resolved")
        if r % 2:
            t_step += best(lambda ids=step_ids: steps(engine, ids))[0]
            t_floor += best(lambda ids=floor_ids: floor(ids))[0]
        else:
            t_floor += best(lambda ids=floor_ids: floor(ids))[0]
            t_step += best(lambda ids=step_ids: steps(engine, ids))[0]
    return t_floor, t_step


def count_statements(engine: Engine, fn: Callable[[], Any]) -> int:
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
    rounds, per_round, n_batch = (2, 25, 100) if smoke else (20, 100, 1000)
    n_single = rounds * per_round
    with database(kind) as url:
        wf = batch_workflow()
        engine = Engine([wf], url)
        engine.install()
        testing.create_entity_table(engine.db, wf)
        # warm-up: reflection, statement caches, connection pool
        warm = fill(engine, wf, "w", 20, "resolved")
        raw_floor(engine, wf)(warm[:10])
        steps(engine, warm[10:])
        t_floor, t_step = alternating(engine, wf, rounds, per_round)

        one_by_one = fill(engine, wf, "o", n_batch, "draft")
        batched = fill(engine, wf, "b", n_batch, "draft")
        t_each = best(lambda: steps(engine, one_by_one))[0]
        t_batch = best(lambda: engine.execute_batch("ticket", batched, "admin"))[0]

        counts = {}
        for size in (10, 100) if smoke else (10, 100, 1000):
            ids = fill(engine, wf, f"c{size}_", size, "draft")
            counts[size] = count_statements(
                engine, partial(engine.execute_batch, "ticket", ids, "admin")
            )
        engine.dispose()
    print(f"[{kind}] single step: {t_step / n_single * 1e3:.3f} ms/step, "
          f"raw floor: {t_floor / n_single * 1e3:.3f} ms/step "
          f"({n_single} entities each, {rounds} alternating rounds)")  # fmt: skip
    print(f"[{kind}] {n_batch} x execute_step: {t_each * 1e3:.1f} ms; "
          f"execute_batch({n_batch}): {t_batch * 1e3:.1f} ms")  # fmt: skip
    print(f"[{kind}] statements per execute_batch: "
          + ", ".join(f"{n} entities -> {c}" for n, c in counts.items()))  # fmt: skip
    return [
        (f"{kind} step / raw floor (target <= 1.3)", t_step / t_floor),
        (f"{kind} batch / {n_batch} steps (target <= 0.2)", t_batch / t_each),
    ]


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

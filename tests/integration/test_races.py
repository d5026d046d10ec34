"""Real races on PostgreSQL: threads with their own connections, no mocks."""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from tests.integration.conftest import PgBuild
from wfnb import testing
from wfnb.engine import Outcome, StepResult
from wfnb.engine.usecases import Result, StepContext

pytestmark = pytest.mark.pg
WORKERS = 16


def scalar(engine: object, sql: str) -> int:
    with engine.db.connect() as conn:  # type: ignore[attr-defined]
        return int(conn.execute(sa.text(sql)).scalar_one())


def test_sixteen_workers_on_one_claimed_step_run_the_action_once(pg_build: PgBuild) -> None:
    engine, wf = pg_build(entities=1, status="triaged")
    gate = threading.Barrier(WORKERS)

    def slow_check(ctx: StepContext) -> Result:
        time.sleep(0.05)  # every worker reads version 0 before anyone claims
        return Result.ok()

    engine.use_cases.override(wf, "check", slow_check)

    def work(_: int) -> StepResult:
        gate.wait()
        return engine.execute_step("ticket", "e0000", "system")

    with ThreadPoolExecutor(WORKERS) as pool:
        results = list(pool.map(work, range(WORKERS)))
    outcomes = Counter((r.outcome, r.error.code if r.error else None) for r in results)
    assert outcomes[(Outcome.TRANSITIONED, None)] == 1
    assert set(outcomes) <= {
        (Outcome.TRANSITIONED, None),
        (Outcome.FAILED, "WF204"),
        (Outcome.FAILED, "WF202"),
    }
    assert testing.CALLS[("act", "e0000")] == 1
    assert scalar(engine, "SELECT count(*) FROM workflow_history WHERE kind = 'initiated'") == 1
    assert scalar(engine, "SELECT count(*) FROM workflow_history WHERE kind = 'claimed'") == 1
    assert scalar(engine, "SELECT version FROM tickets") == 2


def test_sixteen_workers_over_a_thousand_entities_lose_and_double_nothing(
    pg_build: PgBuild,
) -> None:
    engine, _ = pg_build(entities=1000)
    ids = [f"e{i:04d}" for i in range(1000)]

    plans = {w: random.Random(w).sample(ids, 300) for w in range(WORKERS)}
    attempted = {i for w, mine in plans.items() for i in (mine if w % 2 else mine[:60])}

    def work(worker: int) -> list[StepResult]:
        mine = plans[worker]
        if worker % 2:  # half the workers batch, half step one by one
            out: list[StepResult] = []
            for start in range(0, len(mine), 100):
                out += engine.execute_batch(
                    "ticket", mine[start : start + 100], "admin", step="submit"
                )
            return out
        return [engine.execute_step("ticket", i, "admin", step="submit") for i in mine[:60]]

    with ThreadPoolExecutor(WORKERS) as pool:
        results = [r for chunk in pool.map(work, range(WORKERS)) for r in chunk]
    moved = Counter(r.entity_id for r in results if r.outcome is Outcome.TRANSITIONED)
    assert all(n == 1 for n in moved.values())  # never twice
    failures = {r.error.code for r in results if r.error is not None}
    assert failures <= {"WF202", "WF204"}
    assert failures
    assert set(moved) == attempted  # nothing lost
    history = scalar(engine, "SELECT count(*) FROM workflow_history")
    triaged = scalar(
        engine, "SELECT count(*) FROM tickets WHERE status = 'triaged' AND version = 1"
    )
    assert history == len(moved) == triaged
    assert scalar(engine, "SELECT count(*) FROM tickets WHERE version > 1") == 0


def test_two_batches_in_opposite_orders_lock_rows_in_one_order(pg_build: PgBuild) -> None:
    """Accepted and rejected entities are locked together, in id order (no deadlock).

    Each batch pauses after its first UPDATE until the other has run its own: when the
    rows were locked one target status at a time in input order, batch A held the
    accepted rows, batch B the rejected ones, and each then waited for the other.
    """
    engine, _ = pg_build(entities=4)
    rejected, accepted = ["e0000", "e0001"], ["e0002", "e0003"]
    data = {f"validation:{i}": "reject" for i in rejected}
    start, after_update = threading.Barrier(2), threading.Barrier(2, timeout=1.5)
    paused = threading.local()

    @sa.event.listens_for(engine.db, "after_cursor_execute")
    def pause(*args: object) -> None:  # (conn, cursor, statement, params, context, many)
        statement = str(args[2])
        if statement.startswith("UPDATE tickets") and not getattr(paused, "done", False):
            paused.done = True
            # broken: the other batch is waiting for our locks, so go on and commit
            with contextlib.suppress(threading.BrokenBarrierError):
                after_update.wait()

    def work(order: list[str]) -> list[tuple[str, str | None]]:
        start.wait()
        results = engine.execute_batch("ticket", order, "admin", step="submit", data=data)
        return [(r.outcome.value, r.error.code if r.error else None) for r in results]

    with ThreadPoolExecutor(2) as pool:
        a = pool.submit(work, accepted + rejected)
        b = pool.submit(work, rejected + accepted)
        outcomes = sorted([a.result(), b.result()])
    moved = sorted([("rejected", None)] * 2 + [("transitioned", None)] * 2)
    assert sorted(outcomes[1]) == moved or sorted(outcomes[0]) == moved
    assert sum(o == ("failed", "WF204") for o in outcomes[0] + outcomes[1]) == 4
    assert scalar(engine, "SELECT count(*) FROM workflow_history") == 4


def test_concurrent_created_calls_record_the_creation_once(pg_build: PgBuild) -> None:
    engine, _ = pg_build(entities=1)
    gate = threading.Barrier(8)

    def work(_: int) -> StepResult:
        gate.wait()
        return engine.created("ticket", "e0000")

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(work, range(8)))
    assert Counter(r.outcome for r in results) == {Outcome.TRANSITIONED: 1, Outcome.REJECTED: 7}
    assert all(r.metadata.get("already_recorded") for r in results if r.outcome is Outcome.REJECTED)
    assert scalar(engine, "SELECT count(*) FROM workflow_history") == 1

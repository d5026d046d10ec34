"""The engine under hostile load, repeated: overlapping batches, cold bursts, killed steps.

A reliability suite beside the per-defect regression tests (issue 14): each case runs
several rounds and checks the invariants after every one (nothing lost, nothing done
twice, no deadlock, no pool stall). Bounded: the whole file stays well under 90 s.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import EXAMPLES_NOW, WORKFLOWS
from tests.integration.conftest import PgBuild
from wfnb import testing
from wfnb.engine import Engine, Outcome, StepResult
from wfnb.engine.usecases import Result, StepContext
from wfnb.examples.energy import schema
from wfnb.timers import VirtualClock
from wfnb.validation import load_workflows

ROUNDS = 10
BATCHES = 16
STEPPERS = 4
IDS = [f"e{i:04d}" for i in range(40)]
REJECTED = IDS[::2]  # half the entities: the validation says no, the rejection path runs


def scalar(db: sa.Engine, sql: str) -> int:
    with db.connect() as conn:
        return int(conn.execute(sa.text(sql)).scalar_one())


def slow_check(ctx: StepContext) -> Result:
    time.sleep(0.002)  # the batches reach their compare-and-swap together
    return testing.check(ctx)


@pytest.mark.pg
def test_overlapping_batches_and_steps_never_deadlock_over_many_rounds(
    pg_build: PgBuild,
) -> None:
    engine, wf = pg_build(entities=len(IDS))
    engine.use_cases.override(wf, "check", slow_check)
    data = {f"validation:{i}": "reject" for i in REJECTED}

    for round_ in range(ROUNDS):
        with engine.db.begin() as conn:
            conn.execute(sa.text("UPDATE tickets SET status = 'draft'"))
        history_before = scalar(engine.db, "SELECT count(*) FROM workflow_history")
        versions_before = scalar(engine.db, "SELECT sum(version) FROM tickets")
        gate = threading.Barrier(BATCHES + STEPPERS)

        def batch(worker: int, round_: int = round_, gate: threading.Barrier = gate) -> Any:
            order = random.Random(round_ * 100 + worker).sample(IDS, len(IDS))
            gate.wait()
            return engine.execute_batch("ticket", order, "admin", step="submit", data=data)

        def steps(worker: int, round_: int = round_, gate: threading.Barrier = gate) -> Any:
            mine = random.Random(round_ * 100 - worker).sample(IDS, 8)
            gate.wait()
            return [
                engine.execute_step("ticket", i, "admin", step="submit", data=data) for i in mine
            ]

        with ThreadPoolExecutor(BATCHES + STEPPERS) as pool:
            futures: list[Future[list[StepResult]]] = [
                pool.submit(batch, w) for w in range(BATCHES)
            ] + [pool.submit(steps, w) for w in range(STEPPERS)]
        raised = [f.exception() for f in futures if f.exception() is not None]
        assert raised == [], f"round {round_}: {raised[0]!r}"  # a deadlock raises WF300
        results = [r for f in futures for r in f.result()]
        errors = Counter(r.error.code for r in results if r.error is not None)
        assert set(errors) <= {"WF202", "WF204"}, f"round {round_}: {errors}"
        moved = Counter(r.entity_id for r in results if r.outcome is Outcome.TRANSITIONED)
        assert moved == dict.fromkeys(IDS[1::2], 1), f"round {round_}"  # each exactly once
        written = sum(r.outcome is not Outcome.FAILED for r in results)
        history = scalar(engine.db, "SELECT count(*) FROM workflow_history") - history_before
        versions = scalar(engine.db, "SELECT sum(version) FROM tickets") - versions_before
        assert history == versions == written, f"round {round_}"  # one row per move
        assert scalar(engine.db, "SELECT count(*) FROM tickets WHERE status = 'triaged'") == 20


def cold_calls(db_url: str) -> list[Callable[[Engine], StepResult]]:
    """Sixteen first calls over the four example workflows, each on its own entity."""
    db = sa.create_engine(db_url)
    calls: list[Callable[[Engine], StepResult]] = []
    with db.begin() as conn:
        for _ in range(4):
            invoice = schema.insert_invoice(conn)
            group = schema.insert_sharing_group(conn)
            user = schema.insert_user(conn)
            period = schema.insert_billing_period(conn, period_start=_next_month(conn))
            calls += [
                lambda e, i=invoice: e.execute_step("invoice", i, "admin", step="cancel"),
                lambda e, g=group: e.execute_step("sharing_group", g, "admin", step="cancel"),
                lambda e, u=user: e.execute_step(
                    "user_registration", u, "system", step="expire_unverified"
                ),
                lambda e, p=period: e.execute_step("billing_period", p, "admin", step="close"),
            ]
    db.dispose()
    return calls


def _next_month(conn: sa.Connection) -> Any:
    taken = conn.execute(sa.select(sa.func.count()).select_from(schema.billing_periods))
    month = int(taken.scalar_one())  # one period per month, all ended before EXAMPLES_NOW
    return date(2024 + month // 12, month % 12 + 1, 1)


@pytest.mark.parametrize("round_", range(3))
def test_sixteen_cold_first_calls_on_a_new_engine_all_complete(db_url: str, round_: int) -> None:
    setup = sa.create_engine(db_url)
    schema.create_schema(setup)
    wfs = load_workflows([WORKFLOWS])
    Engine(wfs, setup).install()
    setup.dispose()
    calls = cold_calls(db_url)
    db = sa.create_engine(db_url, pool_size=5, max_overflow=10, pool_timeout=10)
    engine = Engine(wfs, db, clock=VirtualClock(EXAMPLES_NOW))  # cold: nothing reflected
    gate = threading.Barrier(len(calls))

    def first(call: Callable[[Engine], StepResult]) -> StepResult:
        gate.wait()
        return call(engine)

    try:
        with ThreadPoolExecutor(len(calls)) as pool:
            futures = [pool.submit(first, c) for c in calls]
        raised = [f.exception() for f in futures if f.exception() is not None]
        assert raised == []  # a stalled pool raised WF300 here
        results = [f.result() for f in futures]
        assert [r.error for r in results if r.error is not None] == []
        assert all(r.outcome is Outcome.TRANSITIONED for r in results), results
    finally:
        engine.dispose()
        db.dispose()


CHILD = textwrap.dedent(
    """
    import sys
    from wfnb import testing
    from wfnb.engine import Engine
    url, mode, ids = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
    engine = Engine([testing.make_workflow()], url)
    crash = {f"action:{ids[-1]}": "crash"}
    if mode == "batch":
        engine.execute_batch("ticket", ids, "admin", step="submit", data=crash)
    else:
        engine.execute_step("ticket", ids[0], "admin", step="submit", data={"action": "crash"})
    print("survived")
    """
)


def kill_inside_the_action(url: str, mode: str, ids: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, url, mode, ",".join(ids)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert "survived" not in done.stdout


def test_a_step_killed_inside_its_action_completes_exactly_once_when_called_again(
    db_url: str,
) -> None:
    wf = testing.make_workflow()
    engine = Engine([wf], db_url)
    engine.install()
    testing.create_entity_table(engine.db, wf)
    testing.insert_entities(engine.db, wf, IDS[:6])
    plan = [("step", IDS[:1]), ("batch", IDS[1:4]), ("step", IDS[4:5]), ("batch", IDS[5:6])]
    untouched = "SELECT count(*) FROM tickets WHERE status = 'draft' AND version = 0"
    try:
        for mode, ids in plan:
            before = scalar(engine.db, untouched)
            kill_inside_the_action(db_url, mode, ids)
            assert scalar(engine.db, untouched) == before  # the killed call left nothing
            if mode == "batch":
                again = engine.execute_batch("ticket", ids, "admin", step="submit")
            else:
                again = [engine.execute_step("ticket", ids[0], "admin", step="submit")]
            assert [r.to_status for r in again] == ["triaged"] * len(ids)
            assert scalar(engine.db, untouched) == before - len(ids)
            twice = engine.execute_step("ticket", ids[0], "admin", step="submit")
            assert twice.error is not None
            assert twice.error.code == "WF202"  # it moved once; the step no longer applies
        history = "SELECT entity_id, count(*) FROM workflow_history GROUP BY entity_id"
        with engine.db.connect() as conn:
            counts = {row[0]: row[1] for row in conn.execute(sa.text(history))}
        assert counts == dict.fromkeys(IDS[:6], 1)
        assert scalar(engine.db, "SELECT count(*) FROM tickets WHERE version = 1") == 6
    finally:
        engine.dispose()

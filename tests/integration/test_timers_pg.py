"""Durable timers on PostgreSQL through procrastinate: install, arm, dedup, a real worker."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import REPO
from wfnb.store import ledger
from wfnb.timers import BindableQueue, TimerJob
from wfnb.timers.durable import TIMER_TASK, ProcrastinateQueue

pytestmark = pytest.mark.pg

ENVELOPE = {
    "correlation_id": "corr-9",
    "tenant_id": "t1",
    "user_id": None,
    "requester_type": "user",
}
FIRED = sa.Table(
    "timer_fired",
    sa.MetaData(),
    sa.Column("dedup_key", sa.Text, primary_key=True),
    sa.Column("correlation_id", sa.Text),
)


def job(entity_id: str, due_at: datetime, version: int = 1) -> TimerJob:
    return TimerJob(
        "invoice", entity_id, "auto_pay", "pay", "system", "approved", version, due_at, ENVELOPE
    )


class TableRunner:
    """Writes one row per timer it runs, so another process can see it ran."""

    def __init__(self, db_url: str) -> None:
        self.engine = sa.create_engine(db_url, poolclass=sa.NullPool)

    def run_timer(self, timer: TimerJob) -> str:
        with self.engine.begin() as conn:
            conn.execute(
                FIRED.insert().values(
                    dedup_key=timer.dedup_key, correlation_id=timer.envelope["correlation_id"]
                )
            )
        return "recorded"


class RecoveringRunner(TableRunner):
    """Also records each recovery pass the worker's periodic task asks for."""

    def recover(self) -> str:
        with self.engine.begin() as conn:
            conn.execute(FIRED.insert().values(dedup_key=f"recovered@{time.time_ns()}"))
        return "recovered"


def table_runner(queue: ProcrastinateQueue) -> RecoveringRunner:
    """The worker subprocess's ``--runner`` factory."""
    return RecoveringRunner(queue.db_url)


@pytest.fixture
def db(pg_url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        FIRED.create(conn)
    yield engine
    engine.dispose()


@pytest.fixture
def queue(pg_url: str, db: sa.Engine) -> Iterator[ProcrastinateQueue]:
    with ProcrastinateQueue(pg_url) as q:
        q.install()
        yield q


def fired(db: sa.Engine) -> list[str]:
    with db.connect() as conn:
        return list(
            conn.execute(sa.select(FIRED.c.dedup_key).order_by(FIRED.c.dedup_key)).scalars()
        )


def job_rows(db: sa.Engine) -> list[sa.Row[tuple[str, str, datetime]]]:
    jobs = sa.table(
        "procrastinate_jobs",
        sa.column("queueing_lock"),
        sa.column("status"),
        sa.column("scheduled_at"),
    )
    with db.connect() as conn:
        stmt = sa.select(jobs.c.queueing_lock, jobs.c.status, jobs.c.scheduled_at)
        return list(conn.execute(stmt.order_by(jobs.c.queueing_lock)))


def test_install_is_idempotent_and_lands_in_the_urls_schema(pg_url: str, db: sa.Engine) -> None:
    with ProcrastinateQueue(pg_url) as q:
        assert q.install() is True
        assert q.install() is False
    schema = sa.make_url(pg_url).query["options"].split("=", 1)[1]
    tables = set(sa.inspect(db).get_table_names(schema=schema))
    assert {"procrastinate_jobs", "wfnb_timer_ledger"} <= tables
    assert "procrastinate_jobs" not in sa.inspect(db).get_table_names(schema="public")


def test_enqueue_schedules_a_job_at_the_due_time(queue: ProcrastinateQueue, db: sa.Engine) -> None:
    due = datetime(2031, 5, 17, 8, 0, tzinfo=UTC)
    armed = job("7", due)
    assert queue.enqueue(armed) is True
    assert job_rows(db) == [(armed.dedup_key, "todo", due)]
    assert queue.pending() == [armed]
    assert queue.armed_keys("invoice", "7") == [armed.dedup_key]


def test_enqueue_twice_arms_once_and_a_new_version_arms_again(
    queue: ProcrastinateQueue, db: sa.Engine
) -> None:
    due = datetime.now(UTC) + timedelta(days=3)
    assert queue.enqueue(job("7", due)) is True
    assert queue.enqueue(job("7", due)) is False
    assert queue.enqueue(job("7", due, version=2)) is True
    assert [row.queueing_lock for row in job_rows(db)] == [
        "invoice:7:auto_pay:1",
        "invoice:7:auto_pay:2",
    ]


def test_in_process_worker_runs_due_jobs_only_and_never_rearms_a_ran_key(
    queue: ProcrastinateQueue, db: sa.Engine
) -> None:
    now = datetime.now(UTC)
    due, later = job("1", now - timedelta(minutes=1)), job("2", now + timedelta(days=1))
    queue.enqueue(due)
    queue.enqueue(later)
    queue.bind(TableRunner(queue.db_url))

    queue.run_worker(wait=False, install_signal_handlers=False, poll_interval=0.1)

    assert fired(db) == [due.dedup_key]
    assert queue.pending() == [later]
    assert queue.enqueue(due) is False  # its job ran and was deleted: the ledger remembers


def test_a_runner_can_arm_timers_from_inside_the_worker(
    queue: ProcrastinateQueue, db: sa.Engine
) -> None:
    past = datetime.now(UTC) - timedelta(seconds=5)

    class ChainRunner(TableRunner):
        def run_timer(self, timer: TimerJob) -> str:
            if timer.entity_id == "1":
                assert queue.enqueue(job("2", past)) is True
            return super().run_timer(timer)

    queue.enqueue(job("1", past))
    queue.bind(ChainRunner(queue.db_url))
    queue.run_worker(wait=False, install_signal_handlers=False, poll_interval=0.1)
    assert fired(db) == ["invoice:1:auto_pay:1", "invoice:2:auto_pay:1"]


def test_worker_process_runs_a_past_job_and_stops_on_sigterm(
    pg_url: str, queue: ProcrastinateQueue, db: sa.Engine
) -> None:
    armed = job("7", datetime.now(UTC) - timedelta(hours=1))
    queue.enqueue(armed)
    queue.close()
    cmd = [
        sys.executable,
        "-m",
        "wfnb.timers.worker_main",
        "--db",
        pg_url,
        "--runner",
        f"{__name__}:table_runner",
        "--poll-interval",
        "0.2",
    ]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)])}
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while len(fired(db)) < 2 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        ran, recovered = fired(db)
        assert ran == armed.dedup_key
        assert recovered.startswith("recovered@")  # the recovery pass ran on start-up
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    lines = err.splitlines()
    assert any("event=timer_ran queue=wfnb_timers" in ln and armed.dedup_key in ln for ln in lines)
    assert any("event=recovery_ran" in ln and "outcome=recovered" in ln for ln in lines)
    assert "event=worker_stopped" in lines[-1]
    assert queue.pending() == []


def test_a_job_without_its_envelope_fails_without_reaching_the_runner(
    queue: ProcrastinateQueue, db: sa.Engine, caplog: pytest.LogCaptureFixture
) -> None:
    payload = job("7", datetime.now(UTC) - timedelta(minutes=1)).to_json()
    del payload["envelope"]
    queue.app.configure_task(TIMER_TASK, queue="wfnb_timers").defer(job=payload)
    queue.bind(TableRunner(queue.db_url))

    queue.run_worker(wait=False, install_signal_handlers=False, poll_interval=0.1)

    assert fired(db) == []
    assert [row.status for row in job_rows(db)] == ["failed"]  # not retried: not transient
    failures = [r.getMessage() for r in caplog.records if r.name == "wfnb.timers"]
    assert any(m.startswith("event=timer_failed") and "error=WF209" in m for m in failures)


def test_job_payload_is_the_timer_json(queue: ProcrastinateQueue) -> None:
    armed = job("7", datetime(2031, 1, 1, tzinfo=UTC))
    queue.enqueue(armed)
    assert isinstance(queue, BindableQueue)
    (row,) = queue.app.job_manager.list_jobs(task=TIMER_TASK)
    assert row.task_kwargs == {"job": armed.to_json()}
    assert row.queue == "wfnb_timers"


class FailingRunner:
    """A runner that raises something not transient: procrastinate fails the job at once."""

    def run_timer(self, timer: TimerJob) -> str:
        raise RuntimeError(f"{timer.dedup_key} cannot run")


def ledger_row(db: sa.Engine, key: str) -> dict[str, object]:
    with db.connect() as conn:
        state = ledger.ledger_state(conn, key)
    assert state is not None
    return state


def set_job(db: sa.Engine, key: str, **values: object) -> None:
    """Change the procrastinate job of ``key`` the way a worker or an operator would."""
    sets = ", ".join(f"{name} = :{name}" for name in values)
    with db.begin() as conn:
        conn.execute(
            sa.text(f"UPDATE procrastinate_jobs SET {sets} WHERE queueing_lock = :key"),
            {**values, "key": key},
        )


def test_a_timer_whose_job_failed_is_rearmed_at_most_max_rearms_times(
    pg_url: str, db: sa.Engine
) -> None:
    armed = job("7", datetime.now(UTC) - timedelta(minutes=1))
    with ProcrastinateQueue(pg_url, max_rearms=1) as queue:
        queue.install()
        queue.bind(FailingRunner())
        assert queue.enqueue(armed) is True
        queue.run_worker(wait=False, install_signal_handlers=False, poll_interval=0.1)
        assert [row.status for row in job_rows(db)] == ["failed"]
        assert ledger_row(db, armed.dedup_key)["finished_at"] is None

        assert queue.enqueue(armed) is True  # it never finished: re-armed
        assert queue.enqueue(armed) is False  # waiting again: once
        queue.run_worker(wait=False, install_signal_handlers=False, poll_interval=0.1)
        assert [row.status for row in job_rows(db)] == ["failed", "failed"]
        assert queue.enqueue(armed) is False  # max_rearms reached: left alone
        assert ledger_row(db, armed.dedup_key)["rearmed"] == 1


def test_a_rearmed_timer_runs_once_and_its_key_is_then_finished(
    queue: ProcrastinateQueue, db: sa.Engine
) -> None:
    armed = job("7", datetime.now(UTC) - timedelta(minutes=1))
    queue.bind(FailingRunner())
    queue.enqueue(armed)
    queue.run_worker(wait=False, install_signal_handlers=False, poll_interval=0.1)
    assert queue.enqueue(armed) is True
    queue.bind(TableRunner(queue.db_url))
    queue.run_worker(wait=False, install_signal_handlers=False, poll_interval=0.1)
    assert fired(db) == [armed.dedup_key]
    assert ledger_row(db, armed.dedup_key)["finished_at"] is not None
    assert queue.enqueue(armed) is False


def test_a_key_whose_job_waits_runs_or_was_cancelled_is_not_rearmed_and_a_lost_one_is(
    queue: ProcrastinateQueue, db: sa.Engine
) -> None:
    armed = job("7", datetime.now(UTC) + timedelta(days=1))
    queue.enqueue(armed)
    assert queue.enqueue(armed) is False  # todo
    set_job(db, armed.dedup_key, status="doing")  # a worker fetched it
    assert queue.enqueue(armed) is False
    set_job(db, armed.dedup_key, status="cancelled")  # stopped on purpose
    assert queue.enqueue(armed) is False
    with db.begin() as conn:  # lost: nothing left of it
        conn.execute(sa.text("DELETE FROM procrastinate_jobs"))
    assert queue.enqueue(armed) is True
    assert [(row.queueing_lock, row.status) for row in job_rows(db)] == [(armed.dedup_key, "todo")]
    assert queue.pending() == [armed]


def test_concurrent_rearms_of_one_key_arm_one_job(queue: ProcrastinateQueue, db: sa.Engine) -> None:
    armed = job("7", datetime.now(UTC) - timedelta(minutes=1))
    queue.bind(FailingRunner())
    queue.enqueue(armed)
    queue.run_worker(wait=False, install_signal_handlers=False, poll_interval=0.1)
    barrier = threading.Barrier(8)

    def rearm() -> bool:
        barrier.wait()
        return queue.enqueue(armed)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: rearm(), range(8)))
    assert sorted(answers) == [False] * 7 + [True]
    assert sorted(row.status for row in job_rows(db)) == ["failed", "todo"]


def _worker_row(db: sa.Engine, *, seconds_ago: int) -> int:
    with db.begin() as conn:
        stmt = sa.text(
            "INSERT INTO procrastinate_workers (last_heartbeat) "
            "VALUES (now() - make_interval(secs => :ago)) RETURNING id"
        )
        return int(conn.execute(stmt, {"ago": seconds_ago}).scalar_one())


def test_retry_stalled_hands_back_only_the_jobs_of_dead_workers(
    queue: ProcrastinateQueue, db: sa.Engine
) -> None:
    due = datetime.now(UTC) + timedelta(days=1)
    dead_job, live_job, worn_job = job("dead", due), job("live", due), job("worn", due)
    for armed in (dead_job, live_job, worn_job):
        queue.enqueue(armed)
    dead, live = _worker_row(db, seconds_ago=3600), _worker_row(db, seconds_ago=0)
    set_job(db, dead_job.dedup_key, status="doing", worker_id=dead)
    set_job(db, live_job.dedup_key, status="doing", worker_id=live)
    set_job(db, worn_job.dedup_key, status="doing", worker_id=dead, attempts=5)

    retried = queue.retry_stalled()

    assert len(retried) == 1
    statuses = {row.queueing_lock: row.status for row in job_rows(db)}
    assert statuses == {
        dead_job.dedup_key: "todo",  # back in the queue
        live_job.dedup_key: "doing",  # its worker is alive
        worn_job.dedup_key: "failed",  # stalled five times: it kills workers
    }
    assert queue.retry_stalled() == []


def test_retry_stalled_waits_its_turn_behind_another_workers_pass(
    queue: ProcrastinateQueue, db: sa.Engine
) -> None:
    armed = job("dead", datetime.now(UTC) + timedelta(days=1))
    queue.enqueue(armed)
    set_job(db, armed.dedup_key, status="doing", worker_id=_worker_row(db, seconds_ago=3600))
    with db.begin() as conn:
        assert ledger.try_lock_recovery(conn, queue.queue_name)
        assert queue.retry_stalled() == []  # another pass holds the lock
    assert len(queue.retry_stalled()) == 1


def test_an_older_ledger_is_upgraded_without_rearming_timers_that_fired(
    pg_url: str, db: sa.Engine
) -> None:
    ran, waits = job("ran", datetime.now(UTC)), job("waits", datetime.now(UTC) + timedelta(days=1))
    with ProcrastinateQueue(pg_url) as queue:
        queue.install()
        queue.enqueue(waits)
        with db.begin() as conn:  # the ledger as an older wfnb made it, one key whose job ran
            conn.execute(sa.text("ALTER TABLE wfnb_timer_ledger DROP COLUMN finished_at"))
            conn.execute(sa.text("ALTER TABLE wfnb_timer_ledger DROP COLUMN rearmed"))
            conn.execute(
                sa.text(
                    "INSERT INTO wfnb_timer_ledger (dedup_key, workflow, entity_id, timer_key,"
                    " entered_version, due_at, job_id) VALUES (:k, 'invoice', 'ran',"
                    " 'auto_pay', 1, now(), 424242)"
                ),
                {"k": ran.dedup_key},
            )
        assert queue.install() is False
        assert ledger_row(db, ran.dedup_key)["finished_at"] is not None
        assert ledger_row(db, waits.dedup_key)["finished_at"] is None
        assert queue.enqueue(ran) is False
        assert queue.enqueue(waits) is False


def test_a_recovery_cron_runs_the_pass_as_a_periodic_job(
    pg_url: str, db: sa.Engine, caplog: pytest.LogCaptureFixture
) -> None:
    with ProcrastinateQueue(pg_url, recovery_interval=None, recovery_cron="* * * * * */1") as q:
        q.install()
        q.bind(RecoveringRunner(q.db_url))

        async def run_until_a_periodic_pass() -> None:
            worker = asyncio.create_task(
                q.run_worker_async(install_signal_handlers=False, poll_interval=0.1)
            )
            deadline = time.monotonic() + 20
            while len(fired(db)) < 2 and time.monotonic() < deadline:  # start-up + a tick
                await asyncio.sleep(0.1)
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker

        with caplog.at_level(logging.INFO, logger="wfnb.timers"):
            asyncio.run(run_until_a_periodic_pass())
    assert len(fired(db)) >= 2
    passes = [r.getMessage() for r in caplog.records if "event=recovery_ran" in r.getMessage()]
    assert "tick=start" in passes[0]
    assert any(re.search(r" tick=\d+ ", line) for line in passes[1:])  # the cron's timestamp


def test_a_failing_recovery_pass_is_logged_and_the_worker_carries_on(
    queue: ProcrastinateQueue, db: sa.Engine, caplog: pytest.LogCaptureFixture
) -> None:
    class BrokenRecovery(TableRunner):
        def recover(self) -> str:
            raise RuntimeError("the janitor module is broken")

    armed = job("7", datetime.now(UTC) - timedelta(minutes=1))
    queue.enqueue(armed)
    queue.bind(BrokenRecovery(queue.db_url))
    with caplog.at_level(logging.INFO, logger="wfnb.timers"):
        queue.run_worker(wait=False, install_signal_handlers=False, poll_interval=0.1)
    assert fired(db) == [armed.dedup_key]
    failed = [r.getMessage() for r in caplog.records if "recovery_failed" in r.getMessage()]
    assert [ln.split()[:3] for ln in failed] == [
        ["event=recovery_failed", "queue=wfnb_timers", "error=RuntimeError"]
    ]

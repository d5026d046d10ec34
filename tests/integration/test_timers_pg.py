"""Durable timers on PostgreSQL through procrastinate: install, arm, dedup, a real worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import REPO
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
        assert recovered.startswith("recovered@")  # the periodic pass ran on start-up
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

"""Reliability: a real worker SIGKILLed inside a timer's action, or right after its commit.

A worker killed inside a job leaves it ``doing``; nothing ran it again before ADR 0052.
Here one ``wfnb worker`` process after another is killed, round after round, and each time
a fresh worker (recovery every ``INTERVAL`` s, a worker silent ``STALLED`` s is dead) must
apply the timer's transition exactly once within one recovery interval of the job stalling.
Killed inside the action, the first attempt's transaction dies with the process and the
retry runs the action again, once. Killed after the commit (a runner that pauses between
the engine's commit and the end of the job), the retried job is a no-op: no second history
row, no second action.

The workflow's use cases live in this module: the worker processes import it. The action
blocks on its first call for an ``in-`` entity until the test has killed the worker.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import IO

import pytest
import sqlalchemy as sa

from tests.conftest import REPO
from wfnb import Result, StepContext, testing
from wfnb.engine import Engine
from wfnb.spec import Workflow
from wfnb.store import ledger
from wfnb.timers import TimerJob, VirtualClock
from wfnb.timers.durable import ProcrastinateQueue
from wfnb.validation import load_workflows

pytestmark = pytest.mark.pg

FLAGS = "WFNB_RELIABILITY_FLAGS"
"""The folder where the action and the pausing runner leave their marks (an env var)."""
WORKFLOW_PATH = "WFNB_RELIABILITY_WORKFLOW"
INTERVAL, STALLED, POLL = 1.0, 2.0, 0.2
MARGIN = 4.0
"""Seconds allowed beyond one recovery interval: a poll, the step, and a loaded machine."""
WAIT_LIMIT = 20.0

HOLD: dict[str, object] = {
    "name": "hold",
    "owning_module": "reliability",
    "entity": {"table": "holds"},
    "use_cases": __name__,
    "requester_types": ["user", "system"],
    "status_types": ["waiting", "fired"],
    "initial_status": "waiting",
    "terminal_statuses": ["fired"],
    "steps": [
        {"key": "fire", "status": "waiting", "requester_types": ["system"],
         "action": "hold_action", "successful_state": "fired"},
    ],
    "timers": [
        {"key": "due", "status": "waiting", "after": "PT1M", "step": "fire",
         "requester_type": "system"},
    ],
}  # fmt: skip


def _flags() -> Path:
    return Path(os.environ[FLAGS])


def _wait_for(path: Path, limit: float) -> None:
    deadline = time.monotonic() + limit
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.02)


def hold_action(ctx: StepContext) -> Result:
    """Count the call; on the first call for an ``in-`` entity, block until released."""
    flags, entity = _flags(), str(ctx.entity_id)
    with (flags / f"{entity}.calls").open("a", encoding="utf-8") as fh:
        fh.write(f"{os.getpid()}\n")
    release = flags / f"{entity}.release"
    if entity.startswith("in-") and not release.exists():
        (flags / f"{entity}.inside").touch()
        _wait_for(release, 60)  # the test kills this process long before
    return Result.ok()


@dataclass
class PauseAfterCommit:
    """The engine as runner, pausing after the first committed run of an ``after-`` entity."""

    engine: Engine

    def run_timer(self, job: TimerJob) -> object:
        result = self.engine.run_timer(job)  # committed when this returns
        committed = _flags() / f"{job.entity_id}.committed"
        if job.entity_id.startswith("after-") and not committed.exists():
            committed.touch()
            _wait_for(_flags() / f"{job.entity_id}.release", 60)
        return result

    def recover(self) -> object:
        return self.engine.recover()


def pausing_engine(queue: ProcrastinateQueue) -> PauseAfterCommit:
    """``--runner`` factory of the worker killed after the commit."""
    engine = Engine(load_workflows([os.environ[WORKFLOW_PATH]]), queue.db_url, queue=queue)
    return PauseAfterCommit(engine)


@dataclass
class Worker:
    """One worker process, its stderr in a file."""

    proc: subprocess.Popen[bytes]
    log: Path
    handle: IO[bytes]
    started: float = field(default_factory=time.monotonic)

    def lines(self) -> list[str]:
        return self.log.read_text(encoding="utf-8", errors="replace").splitlines()

    def wait_started(self) -> None:
        deadline = time.monotonic() + WAIT_LIMIT
        while time.monotonic() < deadline and self.proc.poll() is None:
            if any("event=worker_started" in ln for ln in self.lines()):
                return
            time.sleep(0.05)
        raise AssertionError(f"worker did not start: {self.lines()[-5:]}")

    def kill(self) -> float:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        return time.monotonic()

    def stop(self) -> None:
        """SIGTERM once the worker is up (its first recovery pass logged), then wait."""
        deadline = time.monotonic() + WAIT_LIMIT
        while self.proc.poll() is None and time.monotonic() < deadline:
            if any("event=recovery_ran" in ln for ln in self.lines()):
                break
            time.sleep(0.05)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.handle.close()


@dataclass
class Rig:
    """The database, the workflow file, the flags folder and the worker processes."""

    pg_url: str
    folder: Path
    engine: Engine
    workers: list[Worker] = field(default_factory=list)

    @property
    def flags(self) -> Path:
        return self.folder / "flags"

    def env(self) -> dict[str, str]:
        path = os.pathsep.join([str(REPO / "src"), str(REPO)])
        return {
            **os.environ,
            "PYTHONPATH": path,
            FLAGS: str(self.flags),
            WORKFLOW_PATH: str(self.folder / "hold.json"),
        }

    def start(self, *, pausing: bool = False) -> Worker:
        """A ``wfnb worker`` (or, ``pausing``, the worker module with ``PauseAfterCommit``)."""
        timing = ["--recovery-interval", str(INTERVAL), "--stalled-after", str(STALLED)]
        timing += ["--poll-interval", str(POLL), "--db", self.pg_url]
        if pausing:
            cmd = ["-m", "wfnb.timers.worker_main", "--runner", f"{__name__}:pausing_engine"]
        else:
            cmd = ["-m", "wfnb", "worker", str(self.folder / "hold.json")]
        log = self.folder / f"worker-{len(self.workers)}.log"
        handle = log.open("wb")
        proc = subprocess.Popen(
            [sys.executable, *cmd, *timing], cwd=REPO, env=self.env(), stderr=handle
        )
        worker = Worker(proc, log, handle)
        self.workers.append(worker)
        return worker

    def arm(self, entity: str) -> str:
        """Create an entity whose timer is already due; return the timer's dedup key."""
        wf = self.engine.workflow("hold")
        testing.insert_entity(self.engine.db, wf, entity)
        assert self.engine.created("hold", entity, correlation_id=f"c-{entity}").ok
        return f"hold:{entity}:due:0"

    def calls(self, entity: str) -> int:
        path = self.flags / f"{entity}.calls"
        return len(path.read_text().splitlines()) if path.exists() else 0

    def timer_rows(self, entity: str) -> int:
        with self.engine.db.connect() as conn:
            stmt = sa.text(
                "SELECT count(*) FROM workflow_history WHERE kind = 'timer' AND entity_id = :e"
            )
            return int(conn.execute(stmt, {"e": entity}).scalar_one())

    def applied(self, entity: str) -> bool:
        return self.timer_rows(entity) > 0

    def status(self, entity: str) -> str:
        with self.engine.db.connect() as conn:
            stmt = sa.text("SELECT status FROM holds WHERE id = :e")
            return str(conn.execute(stmt, {"e": entity}).scalar_one())

    def finished(self, key: str) -> bool:
        with self.engine.db.connect() as conn:
            state = ledger.ledger_state(conn, key)
        return state is not None and state["finished_at"] is not None

    def settled(self, key: str) -> bool:
        """The ledger says finished and procrastinate has ended the job (it comes second)."""
        return self.finished(key) and not self.open_jobs(key)

    def open_jobs(self, key: str) -> list[str]:
        with self.engine.db.connect() as conn:
            stmt = sa.text(
                "SELECT status::text FROM procrastinate_jobs WHERE queueing_lock = :k "
                "AND status IN ('todo', 'doing')"
            )
            return list(conn.execute(stmt, {"k": key}).scalars())


@pytest.fixture
def rig(pg_url: str, tmp_path: Path) -> Iterator[Rig]:
    (tmp_path / "hold.json").write_text(json.dumps(HOLD))
    (tmp_path / "flags").mkdir()
    past = VirtualClock(datetime(2020, 1, 1, tzinfo=UTC))  # every timer is due at once
    queue = ProcrastinateQueue(pg_url, recovery_interval=None)
    engine = Engine([Workflow.model_validate(HOLD)], pg_url, queue=queue, clock=past)
    engine.install()
    testing.create_entity_table(engine.db, engine.workflow("hold"))
    made = Rig(pg_url, tmp_path, engine)
    try:
        yield made
    finally:
        for worker in made.workers:
            if worker.proc.poll() is None:
                worker.proc.kill()
                worker.proc.wait()
            worker.handle.close()
        engine.dispose()
        queue.dispose()


def _until(check: Callable[[], bool], deadline: float) -> bool:
    """Whether ``check()`` holds by ``deadline`` (a ``time.monotonic()`` moment)."""
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def _bound(killed_at: float, worker: Worker) -> float:
    """Latest moment the retried timer may land: one interval after it is stalled and a
    worker is there to see it (plus ``MARGIN``)."""
    stalled_at = killed_at + STALLED
    return max(stalled_at, worker.started) + INTERVAL + MARGIN


def test_a_worker_killed_inside_the_timers_action_is_replaced_and_the_timer_applies_once(
    rig: Rig,
) -> None:
    worker = rig.start()
    for round_no in range(3):
        last = round_no == 2
        entity = f"in-{round_no}"
        key = rig.arm(entity)
        _wait_for(rig.flags / f"{entity}.inside", WAIT_LIMIT)
        assert (rig.flags / f"{entity}.inside").exists(), worker.lines()[-5:]
        assert rig.open_jobs(key) == ["doing"]

        killed_at = worker.kill()
        (rig.flags / f"{entity}.release").touch()
        assert rig.status(entity) == "waiting"  # the killed attempt's transaction died
        worker = rig.start()
        rival = rig.start() if last else None  # two recovering workers race for the job

        landed = _until(partial(rig.applied, entity), _bound(killed_at, worker))
        assert landed, f"round {round_no}: not applied in time; {worker.lines()[-8:]}"
        assert _until(partial(rig.settled, key), time.monotonic() + WAIT_LIMIT)
        assert rig.timer_rows(entity) == 1
        assert rig.status(entity) == "fired"
        assert rig.calls(entity) == 2  # the killed attempt, the retried one
        assert rig.open_jobs(key) == []
        recovered = [*worker.lines(), *(rival.lines() if rival else [])]
        assert sum("event=stalled_job_retried" in ln and key in ln for ln in recovered) == 1
    for alive in (worker, rival):
        assert alive is not None
        alive.stop()
        assert alive.proc.returncode == 0, alive.lines()[-5:]


def test_a_worker_killed_after_the_commit_leaves_a_job_whose_retry_is_a_no_op(
    rig: Rig,
) -> None:
    for round_no in range(2):
        entity = f"after-{round_no}"
        victim = rig.start(pausing=True)
        key = rig.arm(entity)
        _wait_for(rig.flags / f"{entity}.committed", WAIT_LIMIT)
        assert (rig.flags / f"{entity}.committed").exists(), victim.lines()[-5:]
        assert rig.timer_rows(entity) == 1  # the step committed ...
        assert rig.open_jobs(key) == ["doing"]  # ... and its job did not end

        killed_at = victim.kill()
        (rig.flags / f"{entity}.release").touch()
        worker = rig.start()

        done = _until(partial(rig.settled, key), _bound(killed_at, worker))
        assert done, f"round {round_no}: the retried job did not end; {worker.lines()[-8:]}"
        assert rig.open_jobs(key) == []
        assert rig.timer_rows(entity) == 1  # no second history row
        assert rig.calls(entity) == 1  # no second action
        assert rig.status(entity) == "fired"
        lines = worker.lines()
        assert any("event=stalled_job_retried" in ln and key in ln for ln in lines)
        assert any("event=timer_ran" in ln and key in ln and "outcome=failed" in ln for ln in lines)
        worker.stop()
        assert worker.proc.returncode == 0, lines[-5:]

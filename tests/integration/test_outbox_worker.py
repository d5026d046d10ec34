"""The outbox with a real worker (issue 16.4, ADR 0102): killed and restarted, nothing lost.

``wfnb worker --subscriber`` delivers ``workflow_outbox`` through a procrastinate periodic
job. The subscriber (in this module; the worker imports it) records each event's key and
takes a moment, so the SIGKILL lands mid-stream. After a second worker has drained the
rest — including transitions committed while no worker ran — every history row was
received, keyed by its id (exactly once per key; the row in flight at the kill may come
twice), and per entity in commit order.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import pytest
import sqlalchemy as sa

from tests.conftest import REPO
from wfnb import testing
from wfnb.engine import Engine
from wfnb.engine.usecases import Event

pytestmark = pytest.mark.pg

RECEIVED = "WFNB_OUTBOX_RECEIVED"
"""The file the subscriber appends ``key entity pid`` lines to (an env var)."""
WAIT_LIMIT = 60.0


def record(event: Event) -> None:
    """The durable subscriber: one line per delivery, then a pause."""
    with Path(os.environ[RECEIVED]).open("a", encoding="utf-8") as fh:
        fh.write(f"{event.key} {event.entity_id} {os.getpid()}\n")
    time.sleep(0.1)


def _until(check: Callable[[], bool], limit: float = WAIT_LIMIT) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


class Rig:
    def __init__(self, pg_url: str, folder: Path, engine: Engine) -> None:
        self.pg_url, self.folder, self.engine = pg_url, folder, engine
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs: list[IO[bytes]] = []

    @property
    def received(self) -> Path:
        return self.folder / "received.txt"

    def start(self) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)]),
            RECEIVED: str(self.received),
        }
        cmd = [sys.executable, "-m", "wfnb", "worker", str(self.folder / "ticket.json")]
        cmd += ["--db", self.pg_url, "--install", "--poll-interval", "0.2"]
        cmd += ["--subscriber", f"{__name__}:record"]
        log = (self.folder / f"worker-{len(self.procs)}.log").open("wb")
        self.logs.append(log)
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stderr=log, stdout=log)
        self.procs.append(proc)
        return proc

    def lines(self) -> list[list[str]]:
        if not self.received.exists():
            return []
        return [ln.split() for ln in self.received.read_text().splitlines() if ln.strip()]

    def scalar(self, sql: str) -> int:
        with self.engine.db.connect() as conn:
            return int(conn.execute(sa.text(sql)).scalar_one())

    def pending(self) -> int:
        return self.scalar("SELECT count(*) FROM workflow_outbox WHERE delivered_at IS NULL")

    def history(self) -> list[tuple[int, str]]:
        with self.engine.db.connect() as conn:
            stmt = sa.text("SELECT id, entity_id FROM workflow_history ORDER BY id")
            return [(int(i), str(e)) for i, e in conn.execute(stmt)]


@pytest.fixture
def rig(pg_url: str, tmp_path: Path) -> Iterator[Rig]:
    (tmp_path / "ticket.json").write_text(json.dumps(testing.DEFAULT_WORKFLOW))
    engine = Engine([testing.make_workflow()], pg_url)
    engine.install()
    testing.create_entity_table(engine.db, engine.workflow("ticket"))
    made = Rig(pg_url, tmp_path, engine)
    try:
        yield made
    finally:
        for proc in made.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        for log in made.logs:
            log.close()
        engine.dispose()


def test_a_killed_worker_loses_no_transition_and_delivers_each_key_once(rig: Rig) -> None:
    ids = [f"t{i}" for i in range(8)]
    testing.insert_entities(rig.engine.db, rig.engine.workflow("ticket"), ids)
    for entity in ids:  # draft -> triaged, then claimed -> resolved: three rows each
        assert rig.engine.execute_step("ticket", entity, "admin").ok
        assert rig.engine.execute_step("ticket", entity, "system").ok
    first = rig.start()
    assert _until(lambda: len(rig.lines()) >= 5), (rig.folder / "worker-0.log").read_text()
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    assert rig.pending() > 0  # killed mid-stream
    for entity in ids:  # committed while no worker runs
        assert rig.engine.execute_step("ticket", entity, "admin", step="close").ok

    second = rig.start()
    assert _until(lambda: rig.pending() == 0), (rig.folder / "worker-1.log").read_text()
    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=30) == 0

    history = rig.history()
    assert len(history) == 8 * 4
    lines = rig.lines()
    keys = [int(key) for key, _, _ in lines]
    assert set(keys) == {i for i, _ in history}  # every transition, by its history id
    assert len(keys) - len(set(keys)) <= 1  # only the one in flight at the kill came twice
    assert {pid for _, _, pid in lines} == {str(first.pid), str(second.pid)}
    owner = dict(history)
    for entity in ids:  # per entity, first deliveries in commit order
        seen: list[int] = []
        for key in keys:
            if owner[key] == entity and key not in seen:
                seen.append(key)
        assert seen == sorted(seen) == [i for i, e in history if e == entity]
    assert rig.scalar("SELECT count(*) FROM workflow_outbox") == len(history)

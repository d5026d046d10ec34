"""The durable path end to end: the engine arms timers on procrastinate, `wfnb worker` runs them.

A real worker process (the `wfnb worker` command line) runs due jobs against the engine on
PostgreSQL: a timer at a status the entity still sits at moves it (history kind `timer`); a
timer whose entity moved on does nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import REPO
from tests.unit.engine.test_timers_wired import WAITING
from wfnb import testing
from wfnb.engine import Engine
from wfnb.spec import Workflow
from wfnb.timers import VirtualClock
from wfnb.timers.durable import ProcrastinateQueue

pytestmark = pytest.mark.pg


def test_wfnb_worker_runs_the_engines_due_timers(pg_url: str, tmp_path: Path) -> None:
    path = tmp_path / "application.json"
    path.write_text(json.dumps(WAITING))
    wf = Workflow.model_validate(WAITING)
    past = VirtualClock(datetime(2020, 1, 1, tzinfo=UTC))  # every timer is already due
    with ProcrastinateQueue(pg_url) as queue:
        engine = Engine([wf], pg_url, queue=queue, clock=past)
        engine.install()  # the engine's tables and the queue's schema
        assert queue.install() is False  # already there
        testing.create_entity_table(engine.db, wf)
        for entity in ("a1", "a2"):
            testing.insert_entity(engine.db, wf, entity)
            assert engine.created("application", entity, correlation_id=f"c-{entity}").ok
        assert engine.execute_step("application", "a2", "user", step="park").ok
        assert len(queue.pending()) == 4
        engine.dispose()

    done = subprocess.run(
        [sys.executable, "-m", "wfnb", "worker", str(path), "--db", pg_url,
         "--once", "--poll-interval", "0.2", "--recovery-cron", ""],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr

    db = sa.create_engine(pg_url)
    with db.connect() as conn:
        status = dict(conn.execute(sa.text("SELECT id, status FROM applications")).all())
        timer_rows = conn.execute(
            sa.text(
                "SELECT entity_id, step_key, to_status, correlation_id FROM workflow_history "
                "WHERE kind = 'timer' ORDER BY id"
            )
        ).all()
    db.dispose()
    assert status == {"a1": "expired", "a2": "parked"}
    assert [tuple(r) for r in timer_rows] == [
        ("a1", "remind", "waiting", "c-a1"),
        ("a1", "expire", "expired", "c-a1"),
    ]


def test_the_workers_recovery_pass_rearms_timers_lost_in_a_crash(
    pg_url: str, tmp_path: Path
) -> None:
    """A transition committed but its timers were never armed (the process died between the
    commit and the queue): the worker's recovery pass arms them and runs what is due."""
    path = tmp_path / "application.json"
    path.write_text(json.dumps(WAITING))
    wf = Workflow.model_validate(WAITING)
    past = VirtualClock(datetime(2020, 1, 1, tzinfo=UTC))
    crashed = Engine([wf], pg_url, clock=past)  # no queue: nothing gets armed
    crashed.install()
    testing.create_entity_table(crashed.db, wf)
    testing.insert_entity(crashed.db, wf, "a1")
    assert crashed.created("application", "a1", correlation_id="c-lost").ok
    crashed.dispose()
    with ProcrastinateQueue(pg_url) as queue:
        queue.install()
        assert queue.pending() == []

    done = subprocess.run(
        [sys.executable, "-m", "wfnb", "worker", str(path), "--db", pg_url,
         "--once", "--poll-interval", "0.2"],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    db = sa.create_engine(pg_url)
    with db.connect() as conn:
        status = conn.execute(sa.text("SELECT status FROM applications")).scalar_one()
        kinds = conn.execute(
            sa.text("SELECT step_key, correlation_id FROM workflow_history WHERE kind = 'timer'")
        ).all()
    db.dispose()
    assert status == "expired"
    assert {tuple(k) for k in kinds} == {("remind", "c-lost"), ("expire", "c-lost")}

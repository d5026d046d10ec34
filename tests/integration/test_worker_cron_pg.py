"""The worker's periodic jobs run in cron contexts (issue 16.5, ADR 0103), on PostgreSQL.

The workflows declare ``system`` a system requester type: a caller outside ``wfnb.cron``
cannot run its ``system`` steps, yet a real ``wfnb worker`` process still fires the timers
(as ``system``) and hands stale claims to the janitor; its JSON run records and the
history rows name the cron each ran under (``wfnb.timers``, ``wfnb.recovery``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import wfnb
from tests.integration.test_worker_logs_pg import _worker
from tests.unit.engine.test_timers_wired import WAITING
from wfnb import testing
from wfnb.engine import Engine
from wfnb.engine.usecases import Result, StepContext
from wfnb.spec import Workflow
from wfnb.timers import VirtualClock
from wfnb.timers.durable import ProcrastinateQueue

pytestmark = pytest.mark.pg

DECLARED = {**WAITING, "system_requester_types": ["system"]}


def _history(pg_url: str, kind: str) -> list[tuple[Any, ...]]:
    db = sa.create_engine(pg_url)
    try:
        with db.connect() as conn:
            found = conn.execute(
                sa.text(
                    "SELECT step_key, requester_type, correlation_id, metadata->>'cron' "
                    "FROM workflow_history WHERE kind = :k ORDER BY id"
                ),
                {"k": kind},
            ).all()
    finally:
        db.dispose()
    return [tuple(r) for r in found]


def test_the_worker_fires_declared_system_timers_in_its_cron_context(
    pg_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "application.json"
    path.write_text(json.dumps(DECLARED))
    wf = Workflow.model_validate(DECLARED)
    past = VirtualClock(datetime(2020, 1, 1, tzinfo=UTC))  # every timer is already due
    with ProcrastinateQueue(pg_url) as queue:
        engine = Engine([wf], pg_url, queue=queue, clock=past)
        engine.install()
        testing.create_entity_table(engine.db, wf)
        testing.insert_entity(engine.db, wf, "a1")
        assert engine.created("application", "a1", correlation_id="c-armed").ok
        refused = engine.execute_step("application", "a1", "system", step="remind")
        assert refused.error is not None
        assert refused.error.code == "WF209"
        assert len(queue.pending()) == 2
        engine.dispose()

    done = _worker(pg_url, path, "--log-format", "json", "--recovery-cron", "")

    assert _history(pg_url, "timer") == [
        ("remind", "system", "c-armed", "wfnb.timers"),
        ("expire", "system", "c-armed", "wfnb.timers"),
    ]
    records = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    runs = [(r["run"], r["step"], r["cron"], r["error_code"]) for r in records if r.get("run")]
    assert sorted(runs) == sorted([
        ("step", "remind", "wfnb.timers", None),
        ("timer", "remind", "wfnb.timers", None),
        ("step", "expire", "wfnb.timers", None),
        ("timer", "expire", "wfnb.timers", None),
    ])  # fmt: skip


def _janitor(ctx: StepContext) -> Result:
    return Result.ok(checked="hub says done")


def janitors() -> dict[str, Any]:
    """The worker subprocess's ``--janitors`` function."""
    return {"support": _janitor}


def test_the_workers_recovery_pass_runs_the_janitor_in_its_cron_context(
    pg_url: str, tmp_path: Path
) -> None:
    data = {**testing.DEFAULT_WORKFLOW, "system_requester_types": ["system"]}
    path = tmp_path / "ticket.json"
    path.write_text(json.dumps(data))
    wf = Workflow.model_validate(data)
    engine = Engine([wf], pg_url, clock=VirtualClock(datetime(2020, 1, 1, tzinfo=UTC)))
    engine.install()
    testing.create_entity_table(engine.db, wf)
    testing.insert_entity(engine.db, wf, "t1", status="triaged")

    def die(ctx: StepContext) -> Result:
        raise SystemExit  # escapes after the claim committed, as a crash would

    engine.use_cases.override(wf, "act", die)
    with pytest.raises(SystemExit), wfnb.cron("resolve-triaged"):
        engine.execute_step("ticket", "t1", "system", correlation_id="c-claim")
    engine.dispose()

    done = _worker(pg_url, path, "--log-format", "json", "--janitors", f"{__name__}:janitors")

    assert _history(pg_url, "claimed") == [("resolve", "system", "c-claim", "resolve-triaged")]
    assert _history(pg_url, "janitor") == [("resolve", "system", "c-claim", "wfnb.recovery")]
    records = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    (janitor,) = [r for r in records if r.get("run") == "janitor"]
    assert (janitor["cron"], janitor["to_status"]) == ("wfnb.recovery", "resolved")

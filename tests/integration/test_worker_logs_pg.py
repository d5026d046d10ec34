"""`wfnb worker --log-format json`: the worker's stdout is JSON lines (issue 16.3).

A real worker process on PostgreSQL fires an armed timer; every line it writes on stdout
parses as a JSON object, and the timer job's and the timer step's run records carry the
correlation id of the step that armed the timer, with every run-record field. Its recovery
pass hands a stale claim to a janitor: that run is a JSON record too.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.unit.engine.test_timers_wired import WAITING
from wfnb import testing
from wfnb.engine import Engine
from wfnb.engine.usecases import Result, StepContext
from wfnb.logs import RUN_FIELDS
from wfnb.spec import Workflow
from wfnb.timers import VirtualClock
from wfnb.timers.durable import ProcrastinateQueue

pytestmark = pytest.mark.pg


def _arm_past_timers(pg_url: str, correlation_id: str) -> None:
    """An entity whose two timers are armed in the past (due as soon as a worker looks)."""
    wf = Workflow.model_validate(WAITING)
    past = VirtualClock(datetime(2020, 1, 1, tzinfo=UTC))
    with ProcrastinateQueue(pg_url) as queue:
        engine = Engine([wf], pg_url, queue=queue, clock=past)
        engine.install()
        testing.create_entity_table(engine.db, wf)
        testing.insert_entity(engine.db, wf, "a1")
        assert engine.created("application", "a1", correlation_id=correlation_id).ok
        assert len(queue.pending()) == 2
        engine.dispose()


def _worker(pg_url: str, path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """``wfnb worker --once``; its recovery pass runs at start (unless ``extra`` turns it off)."""
    done = subprocess.run(
        [sys.executable, "-m", "wfnb", "worker", str(path), "--db", pg_url,
         "--once", "--poll-interval", "0.2", *extra],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done


def test_the_workers_stdout_is_json_lines_with_the_steps_correlation_id(
    pg_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "application.json"
    path.write_text(json.dumps(WAITING))
    _arm_past_timers(pg_url, "c-json-1")

    done = _worker(pg_url, path, "--log-format", "json", "--recovery-cron", "")

    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert lines, done.stderr
    records: list[dict[str, Any]] = [json.loads(line) for line in lines]  # every line is JSON
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    timers = [r for r in records if r.get("run") == "timer"]
    steps = [r for r in records if r.get("run") == "step"]
    assert sorted(r["step"] for r in timers) == ["expire", "remind"]
    assert sorted(r["step"] for r in steps) == ["expire", "remind"]
    for record in timers + steps:
        assert set(RUN_FIELDS) <= set(record)
        assert record["correlation_id"] == "c-json-1"
        assert (record["workflow"], record["entity_id"]) == ("application", "a1")
        assert record["requester_type"] == "system"
    assert {r["kind"] for r in steps} == {"timer"}
    expired = next(r for r in steps if r["step"] == "expire")
    assert (expired["from_status"], expired["to_status"], expired["outcome"]) == (
        "waiting",
        "expired",
        "transitioned",
    )
    assert any(r["message"].startswith("event=worker_stopped") for r in records)


def test_the_text_format_stays_on_stderr(pg_url: str, tmp_path: Path) -> None:
    path = tmp_path / "application.json"
    path.write_text(json.dumps(WAITING))
    _arm_past_timers(pg_url, "c-text-1")

    done = _worker(pg_url, path, "--recovery-cron", "")  # --log-format text is the default

    assert done.stdout == ""
    ran = [ln for ln in done.stderr.splitlines() if "event=timer_ran" in ln]
    assert len(ran) == 2
    assert all("correlation_id=c-text-1" in ln for ln in ran)


def _janitor(ctx: StepContext) -> Result:
    return Result.ok(checked="hub says done")


def janitors() -> dict[str, Any]:
    """The worker subprocess's ``--janitors`` function."""
    return {"support": _janitor}


def test_the_workers_janitor_runs_are_json_records(pg_url: str, tmp_path: Path) -> None:
    """A claim stranded long ago: the worker's recovery pass hands it to the janitor."""
    path = tmp_path / "ticket.json"
    path.write_text(json.dumps(testing.DEFAULT_WORKFLOW))
    wf = testing.make_workflow()
    engine = Engine([wf], pg_url, clock=VirtualClock(datetime(2020, 1, 1, tzinfo=UTC)))
    engine.install()
    testing.create_entity_table(engine.db, wf)
    testing.insert_entity(engine.db, wf, "t1", status="triaged")

    def die(ctx: StepContext) -> Result:
        raise SystemExit  # escapes after the claim committed, as a crash would

    engine.use_cases.override(wf, "act", die)
    with pytest.raises(SystemExit):
        engine.execute_step("ticket", "t1", "system", correlation_id="c-claim-9", user_id="u9")
    engine.dispose()

    done = _worker(pg_url, path, "--log-format", "json", "--janitors", f"{__name__}:janitors")

    records = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    (janitor,) = [r for r in records if r.get("run") == "janitor"]
    assert set(RUN_FIELDS) <= set(janitor)
    assert (janitor["correlation_id"], janitor["user_id"], janitor["kind"]) == (
        "c-claim-9",
        "u9",
        "janitor",
    )
    assert (janitor["from_status"], janitor["to_status"], janitor["outcome"]) == (
        "resolving",
        "resolved",
        "transitioned",
    )

"""Conformance on a real history: each kind of deviation planted once, found once, alone.

The ``ticket`` workflow of ``wfnb.testing`` is driven through the real ``Engine`` with a
virtual clock; an older version of the file (one more step) lives only in the first commit
of a throwaway git repository, and one entity is driven under it. Then the test plants
what the engine never writes: manual UPDATEs, hand-inserted history rows, an entity left
past a timer, a claim left to go stale, a self-loop step run twice.
"""

from __future__ import annotations

import copy
import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from wfnb import testing
from wfnb.analysis.conformance import ConformanceReport, DeviationKind, conformance
from wfnb.engine import Engine
from wfnb.spec import Workflow, Workflows
from wfnb.store import HISTORY
from wfnb.timers import VirtualClock
from wfnb.validation import load_workflows

START = datetime(2026, 1, 1, 12, tzinfo=UTC)


def _current() -> dict[str, Any]:
    data = copy.deepcopy(testing.DEFAULT_WORKFLOW)
    nudge = {"key": "nudge", "status": "triaged", "requester_types": ["system"],
             "action": "act", "successful_state": "triaged"}  # fmt: skip
    data["steps"].append(nudge)
    return data


def _old() -> dict[str, Any]:
    data = _current()
    data["steps"].append(
        {
            "key": "escalate",
            "status": "triaged",
            "requester_types": ["admin"],
            "successful_state": "refused",
        }
    )
    return data


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


@dataclass
class Scene:
    """The planted history and what conformance must find in it."""

    db: sa.Engine
    current: Workflows
    old: Workflow
    old_commit: str
    now: datetime
    expected: set[tuple[str, DeviationKind]]


def _plant(db: sa.Engine, wf: Workflow, entity: str, at: datetime, **row: Any) -> None:
    """A history row the engine never wrote, and the entity moved to its ``to_status``."""
    values = {
        "workflow": wf.name, "entity_table": wf.entity.table, "entity_id": entity,
        "kind": "initiated", "requester_type": "admin", "config_hash": wf.config_hash,
        "metadata": {}, "changed_at": at, **row,
    }  # fmt: skip
    tickets = sa.table("tickets", sa.column("id"), sa.column("status"))
    with db.begin() as conn:
        conn.execute(sa.insert(HISTORY), [values])
        conn.execute(
            sa.update(tickets).where(tickets.c.id == entity).values(status=values["to_status"])
        )


def _manual_update(db: sa.Engine, entity: str, status: str) -> None:
    tickets = sa.table("tickets", sa.column("id"), sa.column("status"))
    with db.begin() as conn:
        conn.execute(sa.update(tickets).where(tickets.c.id == entity).values(status=status))


@pytest.fixture
def scene(db_url: str, tmp_path: Path) -> Iterator[Scene]:
    repo = tmp_path / "repo"
    folder = repo / "workflows"
    folder.mkdir(parents=True)
    _git(repo, "init", "-q")
    (folder / "ticket.json").write_text(json.dumps(_old(), indent=2))
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "old")
    old_commit = _git(repo, "rev-parse", "HEAD")
    (folder / "ticket.json").write_text(json.dumps(_current(), indent=2))
    _git(repo, "commit", "-q", "-am", "new")
    current = load_workflows(folder)
    old = load_workflows(folder, rev=old_commit)["ticket"]
    assert old.config_hash != current["ticket"].config_hash

    clock = VirtualClock(start=START)
    engine = Engine(current, db_url, clock=clock)
    engine.install()
    wf = current["ticket"]
    testing.create_entity_table(engine.db, wf)
    for entity in ("clean", "gap", "mismatch", "undeclared", "requester", "unknown", "overdue",
                   "stale", "rerun", "old", "repeat"):  # fmt: skip
        testing.insert_entity(engine.db, wf, entity)

    def run(
        entity: str, requester: str, step: str | None = None, request: str | None = None
    ) -> None:
        clock.advance(timedelta(minutes=1))
        engine.execute_step(
            "ticket", entity, requester, step=step, correlation_id=request
        ).raise_for_error()

    run("clean", "user")  # submit, auto-advancing through triage
    run("clean", "admin", "resolve")  # through the claim status
    run("clean", "user", "close")
    for entity in ("gap", "mismatch", "undeclared", "requester", "overdue", "stale", "rerun",
                   "repeat"):  # fmt: skip
        run(entity, "admin", "submit")  # admin's override: straight to triaged
    _manual_update(engine.db, "gap", "resolved")
    run("gap", "user", "close")  # its row starts where no row left it
    _manual_update(engine.db, "mismatch", "refused")  # and nothing records it
    _plant(engine.db, wf, "undeclared", clock.now(), step_key="refuse",
           from_status="triaged", to_status="closed")  # fmt: skip
    _plant(engine.db, wf, "requester", clock.now(), step_key="refuse", requester_type="user",
           from_status="triaged", to_status="refused")  # fmt: skip
    _plant(engine.db, wf, "unknown", clock.now(), step_key="submit", requester_type="user",
           from_status="draft", to_status="submitted", config_hash="f" * 64)  # fmt: skip
    run("rerun", "system", "nudge", request="retried")
    run("rerun", "system", "nudge", request="retried")  # the same request committed twice
    run("repeat", "system", "nudge")  # two requests nudging one stay: a legitimate repeat
    run("repeat", "system", "nudge")
    run("overdue", "admin", "resolve")  # enters resolved: auto_close is due in 7 days
    _plant(engine.db, wf, "stale", clock.now(), kind="claimed", step_key="resolve",
           from_status="triaged", to_status="resolving")  # fmt: skip

    old_engine = Engine(Workflows({"ticket": old}), db_url, clock=clock)
    clock.advance(timedelta(minutes=1))
    old_engine.execute_step("ticket", "old", "admin", step="submit").raise_for_error()
    old_engine.execute_step("ticket", "old", "admin", step="escalate").raise_for_error()
    old_engine.dispose()
    engine.dispose()
    expected = {
        ("gap", DeviationKind.HISTORY_GAP),
        ("mismatch", DeviationKind.STATUS_MISMATCH),
        ("undeclared", DeviationKind.UNDECLARED_TRANSITION),
        ("requester", DeviationKind.REQUESTER_NOT_ALLOWED),
        ("unknown", DeviationKind.UNKNOWN_CONFIG),
        ("overdue", DeviationKind.TIMER_OVERDUE),
        ("stale", DeviationKind.STALE_CLAIM),
        ("rerun", DeviationKind.NON_IDEMPOTENT_RERUN),
    }
    now = clock.now() + timedelta(days=7, hours=1)
    db = sa.create_engine(db_url)
    yield Scene(db, current, old, old_commit, now, expected)
    db.dispose()


def _history_count(db: sa.Engine) -> int:
    with db.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(HISTORY)).scalar_one())


def test_each_planted_deviation_is_found_once_and_nothing_else(scene: Scene) -> None:
    report = conformance(scene.db, scene.current, now=scene.now)
    found = list(zip(report.deviations["entity_id"], report.deviations["kind"], strict=True))
    assert sorted(found) == sorted(scene.expected)
    assert set(report.deviations.columns) == {
        "workflow", "entity_id", "history_id", "kind", "detail", "config_hash", "changed_at",
    }  # fmt: skip
    assert report.deviations["history_id"].notna().all()
    assert report.deviations["changed_at"].notna().all()


def test_fitness_counts_rows_with_a_row_level_deviation(scene: Scene) -> None:
    report = conformance(scene.db, scene.current, now=scene.now)
    rows = _history_count(scene.db)
    assert report.rows == rows
    # gap, undeclared, requester, unknown config, rerun: five rows; the other three are
    # about entities (their table, their clock), not about a row.
    assert report.fitness == pytest.approx((rows - 5) / rows)
    assert not report.ok


def test_old_config_is_found_in_git_and_its_rows_judged_by_it(scene: Scene) -> None:
    report = conformance(scene.db, scene.current, now=scene.now)
    old = report.by_config[report.by_config["config_hash"] == scene.old.config_hash]
    assert old["config_rev"].tolist() == [scene.old_commit]
    assert old["rows"].tolist() == [2]
    assert old["deviations"].tolist() == [0]  # escalate exists only in the old config
    assert set(report.by_config["config_hash"]) == {
        scene.old.config_hash, scene.current["ticket"].config_hash, "f" * 64,
    }  # fmt: skip


def test_without_the_git_folder_the_old_config_is_unknown(scene: Scene, tmp_path: Path) -> None:
    elsewhere = tmp_path / "empty"
    elsewhere.mkdir()
    report = conformance(scene.db, scene.current, now=scene.now, workflows_dir=elsewhere)
    unknown = report.deviations[report.deviations["kind"] == DeviationKind.UNKNOWN_CONFIG]
    assert set(unknown["entity_id"]) == {"unknown", "old"}
    assert len(unknown) == 3  # the bogus row and both rows of the old config


def test_time_decides_overdue_and_stale(scene: Scene) -> None:
    early = conformance(scene.db, scene.current, now=scene.now - timedelta(days=7))
    kinds = set(early.deviations["kind"])
    assert DeviationKind.TIMER_OVERDUE not in kinds
    assert DeviationKind.STALE_CLAIM in kinds  # ten minutes passed long ago


def test_report_displays_itself(scene: Scene) -> None:
    report = conformance(scene.db, scene.current, now=scene.now)
    assert isinstance(report, ConformanceReport)
    assert repr(report).startswith("<ConformanceReport fitness=")
    text = str(report)
    assert "history_gap: 1" in text
    html = report._repr_html_()
    assert "timer_overdue" in html
    assert "<script" not in html
    payload = report.to_json()
    assert json.dumps(payload, default=str)
    assert payload["counts"] == {str(k): 1 for _, k in scene.expected}


def test_an_empty_history_is_perfectly_fit(sqlite_url: str) -> None:
    wf = testing.make_workflow()
    engine = Engine([wf], sqlite_url)
    engine.install()
    engine.dispose()
    report = conformance(sqlite_url, [wf], now=START)
    assert report.fitness == 1.0
    assert report.rows == 0
    assert report.ok
    assert report.by_config.empty


def test_every_audit_statement_is_named() -> None:
    from tests.names import defined_functions
    from wfnb.store import audit

    assert set(audit.AUDIT_QUERY_NAMES) == set(defined_functions(audit))


def test_creation_rows_conform_and_a_fired_reminder_does_not_restart_the_clock(
    db_url: str,
) -> None:
    from tests.unit.engine.test_timers_wired import WAITING
    from wfnb.spec import Workflow
    from wfnb.timers import InMemoryQueue

    wf = Workflow.model_validate(WAITING)
    clock = VirtualClock(start=START)
    queue = InMemoryQueue(clock)
    engine = Engine([wf], db_url, queue=queue, clock=clock)
    engine.install()
    testing.create_entity_table(engine.db, wf)
    testing.insert_entity(engine.db, wf, "a1")
    engine.created("application", "a1", correlation_id="c-1").raise_for_error()
    queue.run_until(START + timedelta(days=10))  # the reminder ran: a self-loop at day 7
    wfs = Workflows({"application": wf})
    early = conformance(engine.db, wfs, now=START + timedelta(days=10))
    assert early.fitness == 1.0
    assert early.deviations.empty
    late = conformance(engine.db, wfs, now=START + timedelta(days=31))  # the deadline never ran
    assert list(late.deviations["kind"]) == [DeviationKind.TIMER_OVERDUE]
    assert "deadline" in late.deviations["detail"].iloc[0]
    engine.dispose()


def _bound_ids(params: Any) -> list[Any]:
    """The ids bound to a statement: expanded ``IN`` parameters, or PostgreSQL's one array."""
    values = params.values() if isinstance(params, dict) else params
    return [i for v in values for i in (v if isinstance(v, list) else [v])]


def test_engine_events_see_the_replay_read_and_timestamps_are_read_only_where_needed(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Read through SQLAlchemy: an Arrow read runs on its own ADBC connection, which
    # engine events do not see (ADR 0110); the timestamp reads are SQLAlchemy's either way.
    monkeypatch.setenv("WFNB_ARROW", "0")
    statements: list[tuple[str, Any]] = []

    def seen(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        statements.append((statement, params))

    sa.event.listen(scene.db, "before_cursor_execute", seen)
    try:
        report = conformance(scene.db, scene.current, now=scene.now)
    finally:
        sa.event.remove(scene.db, "before_cursor_execute", seen)
    replay = [s for s, _ in statements if "ORDER BY" in s and "workflow_history" in s]
    assert len(replay) == 1  # instrumentation hooked on the engine sees the big read
    stamp_reads = [p for s, p in statements if "changed_at" in s and ("IN (" in s or "ANY (" in s)]
    asked = {int(i) for p in stamp_reads for i in _bound_ids(p)}
    with scene.db.connect() as conn:
        rows = conn.execute(
            sa.select(HISTORY.c.id, HISTORY.c.kind, HISTORY.c.from_status, HISTORY.c.to_status)
        ).all()
    timer_statuses = {t.status for wf in scene.current.values() for t in wf.timers}
    may_need = {i for i, kind, _, _ in rows if kind == "claimed"} | {
        i for i, _, frm, to in rows if to in timer_statuses and frm != to
    }
    shown = {int(i) for i in report.deviations["history_id"]}
    assert shown <= asked  # every reported row carries its time...
    assert asked <= shown | may_need  # ...and no other entry row is read for its time
    assert len(asked) < len(rows)


def test_a_detail_never_prints_an_empty_step_or_source(scene: Scene) -> None:
    """QA: "initiated source : sent → draft" (a row with no step key and no source)."""
    wf = scene.current["ticket"]
    _plant(scene.db, wf, "clean", scene.now, step_key=None,
           from_status="closed", to_status="draft")  # fmt: skip
    _plant(scene.db, wf, "clean", scene.now, kind="observed", requester_type=None,
           from_status="draft", to_status="closed")  # fmt: skip
    report = conformance(scene.db, scene.current, now=scene.now)
    mine = report.deviations[report.deviations["entity_id"] == "clean"]
    details = sorted(mine["detail"])
    assert details == [
        "an observation with no source moved it draft → closed, a move not declared",
        "an undeclared step moved it closed → draft, a move not declared for admin",
    ]
    named = report.deviations[report.deviations["entity_id"] == "undeclared"]["detail"]
    assert list(named) == ["step refuse moved it triaged → closed, a move not declared for admin"]
    assert "source :" not in str(report)

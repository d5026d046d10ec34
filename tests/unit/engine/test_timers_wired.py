"""Timers through the real in-memory queue and virtual clock: arming, firing, staleness, recovery.

A waiting entity has a reminder (a self-loop) after 7 days and a deadline after 30: the
self-loop stays at the status, so it neither re-arms nor disarms; leaving and coming back
is a new entry whose timers replace the old ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from wfnb import testing
from wfnb.engine import Engine
from wfnb.spec import Workflow
from wfnb.timers import InMemoryQueue, VirtualClock

START = datetime(2026, 1, 1, 9, tzinfo=UTC)

WAITING: dict[str, object] = {
    "name": "application",
    "owning_module": "intake",
    "entity": {"table": "applications"},
    "use_cases": "wfnb.testing",
    "requester_types": ["user", "system"],
    "status_types": ["waiting", "parked", "expired", "done"],
    "initial_status": "waiting",
    "terminal_statuses": ["expired", "done"],
    "steps": [
        {"key": "remind", "status": "waiting", "requester_types": ["system"],
         "successful_state": "waiting"},
        {"key": "expire", "status": "waiting", "requester_types": ["system"],
         "successful_state": "expired"},
        {"key": "park", "status": "waiting", "requester_types": ["user"],
         "successful_state": "parked"},
        {"key": "finish", "status": "waiting", "requester_types": ["user"],
         "successful_state": "done"},
        {"key": "resume", "status": "parked", "requester_types": ["user"],
         "successful_state": "waiting"},
    ],
    "timers": [
        {"key": "reminder", "status": "waiting", "after": "P7D", "step": "remind",
         "requester_type": "system"},
        {"key": "deadline", "status": "waiting", "after": "P30D", "step": "expire",
         "requester_type": "system"},
    ],
}  # fmt: skip


@pytest.fixture
def setup(db_url: str) -> Iterator[tuple[Engine, InMemoryQueue, VirtualClock]]:
    clock = VirtualClock(START)
    queue = InMemoryQueue(clock)
    wf = Workflow.model_validate(WAITING)
    engine = Engine([wf], db_url, queue=queue, clock=clock)
    engine.install()
    testing.create_entity_table(engine.db, wf)
    testing.insert_entity(engine.db, wf, "a1")
    try:
        yield engine, queue, clock
    finally:
        engine.dispose()


def kinds(engine: Engine) -> list[tuple[str | None, str, str, str | None]]:
    with engine.db.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT kind, from_status, to_status, step_key FROM workflow_history ORDER BY id"
            )
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def status(engine: Engine) -> str:
    with engine.db.connect() as conn:
        return str(conn.execute(sa.text("SELECT status FROM applications")).scalar_one())


def test_created_records_the_entry_and_arms_the_initial_timers(setup) -> None:  # type: ignore[no-untyped-def]
    engine, queue, _ = setup
    result = engine.created("application", "a1", correlation_id="c-new")
    assert result.ok
    assert kinds(engine) == [("initiated", None, "waiting", None)]
    due = sorted((j.timer_key, j.due_at) for j in queue.pending())
    assert due == [
        ("deadline", START + timedelta(days=30)),
        ("reminder", START + timedelta(days=7)),
    ]
    assert engine.created("application", "a1").ok  # a retry arms nothing new
    assert len(queue.pending()) == 2


def test_a_timer_fires_at_its_virtual_time_and_not_before(setup) -> None:  # type: ignore[no-untyped-def]
    engine, queue, _clock = setup
    engine.created("application", "a1", correlation_id="c-1")
    queue.run_until(START + timedelta(days=6, hours=23))
    assert [k for k, *_ in kinds(engine)] == ["initiated"]
    ran = queue.run_until(START + timedelta(days=7))
    assert [j.timer_key for j in ran] == ["reminder"]
    assert kinds(engine)[-1] == ("timer", "waiting", "waiting", "remind")


def test_a_self_loop_neither_rearms_nor_disarms_the_deadline(setup) -> None:  # type: ignore[no-untyped-def]
    engine, queue, _clock = setup
    engine.created("application", "a1", correlation_id="c-1")
    queue.run_until(START + timedelta(days=60))
    assert status(engine) == "expired"
    timer_rows = [(s, t) for k, _, t, s in kinds(engine) if k == "timer"]
    assert timer_rows == [("remind", "waiting"), ("expire", "expired")]  # one reminder only
    with engine.db.connect() as conn:
        expired_at = conn.execute(
            sa.text("SELECT changed_at FROM workflow_history WHERE to_status = 'expired'")
        ).scalar_one()
    assert str(expired_at).startswith("2026-01-31")


def test_leaving_and_coming_back_makes_the_old_timers_stale(setup) -> None:  # type: ignore[no-untyped-def]
    engine, queue, clock = setup
    engine.created("application", "a1", correlation_id="c-1")
    clock.advance(timedelta(days=10))
    assert engine.execute_step("application", "a1", "user", step="park").ok
    clock.advance(timedelta(days=10))
    assert engine.execute_step("application", "a1", "user", step="resume").ok  # day 20
    ran = queue.run_until(START + timedelta(days=45))
    stale = [r for r in queue.ran if r.job.entered_version == 0]
    assert {r.job.timer_key for r in stale} == {"reminder", "deadline"}
    assert all(r.result.error is not None and r.result.error.code == "WF202" for r in stale[1:])
    assert status(engine) == "waiting"  # the new deadline is day 50, not day 30
    assert ran
    queue.run_until(START + timedelta(days=50))
    assert status(engine) == "expired"


def test_recovery_rearms_timers_lost_between_commit_and_arming(db_url: str) -> None:
    clock = VirtualClock(START)
    wf = Workflow.model_validate(WAITING)
    crashed = Engine([wf], db_url, clock=clock)  # no queue: the arming is lost
    crashed.install()
    testing.create_entity_table(crashed.db, wf)
    testing.insert_entity(crashed.db, wf, "a1")
    testing.insert_entity(crashed.db, wf, "a2")
    crashed.created("application", "a1", correlation_id="c-1")
    crashed.created("application", "a2", correlation_id="c-2")
    crashed.execute_step("application", "a2", "user", step="finish")
    crashed.dispose()

    queue = InMemoryQueue(clock)
    engine = Engine([wf], db_url, queue=queue, clock=clock)
    summary = engine.recover()
    assert summary == {"claims": 0, "timers_armed": 2}  # a1's two timers; a2 is done
    assert {(j.entity_id, j.timer_key) for j in queue.pending()} == {
        ("a1", "reminder"),
        ("a1", "deadline"),
    }
    assert engine.recover()["timers_armed"] == 0  # deduplicated
    job = min(queue.pending(), key=lambda j: j.due_at)
    assert job.envelope["correlation_id"] == "c-1"
    queue.run_until(START + timedelta(days=31))
    with engine.db.connect() as conn:
        got = dict(conn.execute(sa.text("SELECT id, status FROM applications")).all())
    assert got == {"a1": "expired", "a2": "done"}
    engine.dispose()


def _timer_rows(engine: Engine) -> list[tuple[str | None, str, object]]:
    with engine.db.connect() as conn:
        found = conn.execute(
            sa.text(
                "SELECT user_id, correlation_id, metadata FROM workflow_history "
                "WHERE kind = 'timer' ORDER BY id"
            )
        )
        return [tuple(r) for r in found]  # type: ignore[misc]


def test_a_timer_runs_without_the_arming_user_who_is_kept_as_armed_by(setup) -> None:  # type: ignore[no-untyped-def]
    import json

    engine, queue, clock = setup
    engine.created("application", "a1", correlation_id="c-0")
    clock.advance(timedelta(days=1))
    engine.execute_step("application", "a1", "user", step="park", user_id="admin:bob")
    engine.execute_step(
        "application", "a1", "user", step="resume", user_id="admin:bob", correlation_id="c-1"
    )
    (job, *_) = [j for j in queue.pending() if j.entered_version == 2]
    assert (job.envelope["user_id"], job.envelope["armed_by"]) == (None, "admin:bob")
    assert job.envelope["correlation_id"] == "c-1"
    queue.run_until(START + timedelta(days=40))
    rows = _timer_rows(engine)
    assert rows
    for user, correlation, metadata in rows:
        meta = metadata if isinstance(metadata, dict) else json.loads(str(metadata))
        assert user is None
        assert correlation == "c-1"  # the lineage stays
        assert meta["armed_by"] == "admin:bob"
    from wfnb import frames

    mine = frames.history(engine.db, user="admin:bob", newest_first=False)
    assert mine.step_key.tolist() == ["park", "resume"]


def test_a_job_armed_with_a_user_runs_without_it(setup) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    engine, queue, _clock = setup
    engine.created("application", "a1", correlation_id="c-1")
    job = min(queue.pending(), key=lambda j: j.due_at)
    old = replace(job, envelope={**job.envelope, "user_id": "u7"})
    del_armed = {k: v for k, v in old.envelope.items() if k != "armed_by"}
    from wfnb.timers.execution import run_job

    result = run_job(engine, replace(old, envelope=del_armed), queue="test")
    assert getattr(result, "ok", False)
    ((user, _, _),) = _timer_rows(engine)
    assert user is None

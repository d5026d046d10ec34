"""The transactional outbox (issue 16.4, ADR 0102): one row per committed transition.

Every path that commits a transition — a step, a batch step, an observation, a timer, a
claim and its outcome, a permanent failure, a creation — leaves exactly one
``workflow_outbox`` row keyed by its history id, written in the step's transaction (a
rolled-back step leaves none). The in-process bus gets the same ``transition`` events with
the same keys, off the step's thread; ``deliver_outbox`` hands them to durable
subscribers at least once, per entity in commit order.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.unit.engine.conftest import Build, rows
from wfnb.engine import Engine, Outcome
from wfnb.engine.events import transition_event
from wfnb.engine.usecases import Event
from wfnb.store import HISTORY
from wfnb.timers import InMemoryQueue, VirtualClock


def outbox_ids(engine: Engine) -> list[int]:
    return [r[0] for r in rows(engine, "SELECT history_id FROM workflow_outbox ORDER BY 1")]


def history_ids(engine: Engine) -> list[int]:
    return [r[0] for r in rows(engine, "SELECT id FROM workflow_history ORDER BY 1")]


def kinds(engine: Engine) -> list[str]:
    return [r[0] for r in rows(engine, "SELECT kind FROM workflow_history ORDER BY id")]


def test_every_committed_transition_leaves_one_outbox_row(build: Build) -> None:
    clock = VirtualClock()
    queue = InMemoryQueue(clock)
    engine, _ = build(entities=6, engine_kw={"queue": queue, "clock": clock})
    seen: list[Event] = []
    engine.events.subscribe("transition", seen.append)

    assert engine.created("ticket", "e5").ok  # a creation
    assert engine.execute_step("ticket", "e0", "admin").ok  # a step: draft -> triaged
    batch = engine.execute_batch("ticket", ["e1", "e2"], "admin")  # a batch step
    assert all(r.ok for r in batch)
    assert engine.observe("ticket", "e0", "closed", source="email").ok  # an observation
    moved = engine.execute_step("ticket", "e1", "system")  # claim, then resolved
    assert moved.outcome is Outcome.TRANSITIONED
    assert [job.step for job in queue.advance_and_run(timedelta(days=8))] == ["close"]  # timer
    failed = engine.execute_step("ticket", "e2", "system", data={"action": "fail"})
    assert failed.outcome is Outcome.FAILED  # claimed, then released
    permanent = engine.execute_step("ticket", "e3", "admin", data={"action": "fail_permanent"})
    assert permanent.to_status == "failed"

    assert sorted(set(kinds(engine))) == [
        "claimed", "initiated", "observed", "released", "timer",
    ]  # fmt: skip
    assert outbox_ids(engine) == history_ids(engine)  # exactly one row each, keyed by id
    assert engine.events.flush(10)
    assert [int(e.key or 0) for e in seen] == history_ids(engine)  # same keys, commit order
    first = seen[1]
    assert (first.workflow, first.entity_id, first.payload["to_status"]) == (
        "ticket",
        "e0",
        "triaged",
    )
    assert first.envelope["correlation_id"]
    assert first.envelope["requester_type"] == "admin"
    assert first.payload["history_id"] == int(first.key or 0)


def test_a_rolled_back_step_leaves_no_outbox_row(build: Build) -> None:
    engine, _ = build(entities=1)
    result = engine.execute_step("ticket", "e0", "admin", data={"action": "fail"})
    assert result.outcome is Outcome.FAILED
    assert rows(engine, "SELECT count(*) FROM workflow_history")[0][0] == 0
    assert outbox_ids(engine) == []
    raced = engine.execute_step("ticket", "e0", "admin", data={"action": "raise"})
    assert raced.outcome is Outcome.FAILED
    assert outbox_ids(engine) == []


def test_a_slow_subscriber_does_not_hold_the_step(build: Build) -> None:
    engine, _ = build(entities=1)
    release = threading.Event()
    engine.events.subscribe("*", lambda _e: release.wait(30))
    result = engine.execute_step("ticket", "e0", "admin")  # returns while the subscriber waits
    assert result.ok
    assert not engine.events.flush(0)  # still delivering ...
    release.set()
    assert engine.events.flush(10)  # ... until the subscriber returns


def test_durable_delivery_in_commit_order_with_retries(build: Build) -> None:
    engine, _ = build(entities=2)
    for entity in ("e0", "e1"):
        assert engine.execute_step("ticket", entity, "user").ok  # submit, auto-advance triage
    assert engine.deliver_outbox().ran is False  # no subscriber: rows wait
    got: list[tuple[str, str]] = []
    broken = {"e0"}

    def subscriber(event: Event) -> None:
        if event.entity_id in broken:
            raise RuntimeError("downstream is down")
        got.append((event.entity_id, event.key or ""))

    engine.subscribe_durable("transition", subscriber)
    report = engine.deliver_outbox()
    assert (report.delivered, report.failed, report.pending) == (2, 1, 2)  # e0 held back
    assert [e for e, _ in got] == ["e1", "e1"]
    broken.clear()
    again = engine.deliver_outbox()
    assert (again.delivered, again.failed, again.pending) == (2, 0, 0)
    keys = [int(k) for _, k in got]
    assert sorted(keys) == history_ids(engine)  # every transition once
    e0 = [int(k) for e, k in got if e == "e0"]
    assert e0 == sorted(e0)  # in commit order
    errors = rows(engine, "SELECT attempts, last_error FROM workflow_outbox ORDER BY history_id")
    assert any(a == 2 for a, _ in errors)  # the failed row was tried twice
    assert all(err is None for _, err in errors)
    assert engine.deliver_outbox().delivered == 0  # nothing delivered twice


@pytest.mark.parametrize("via", ["step", "batch"])
def test_the_history_ids_of_a_step_are_the_event_keys(build: Build, via: str) -> None:
    engine, _ = build(entities=3)
    seen: list[Event] = []
    engine.events.subscribe("transition", seen.append)
    if via == "step":
        engine.execute_step("ticket", "e1", "admin")
    else:
        engine.execute_batch("ticket", ["e2", "e0", "e1"], "admin")
    assert engine.events.flush(10)
    by_entity = {r[1]: r[0] for r in rows(engine, "SELECT id, entity_id FROM workflow_history")}
    assert {e.entity_id: int(e.key or 0) for e in seen} == by_entity


def test_a_history_row_written_outside_the_engine_gets_its_row_once(build: Build) -> None:
    """The trigger, not the engine's Python, writes the row: any writer, any install count."""
    engine, wf = build(entities=1)
    engine.install()  # a second install re-creates the trigger, never a second one
    with engine.db.begin() as conn:
        conn.execute(
            sa.insert(HISTORY),
            [{"workflow": wf.name, "entity_table": "tickets", "entity_id": "e0",
              "kind": "observed", "from_status": "draft", "to_status": "closed",
              "config_hash": wf.config_hash, "metadata": {"by": "psql"},
              "changed_at": datetime(2026, 1, 2, tzinfo=UTC)}],
        )  # fmt: skip
    assert outbox_ids(engine) == history_ids(engine)
    (event,) = [
        transition_event(r[0] if isinstance(r[0], dict) else json.loads(r[0]))
        for r in rows(engine, "SELECT event FROM workflow_outbox")
    ]
    assert event.payload["metadata"] == {"by": "psql"}
    assert event.payload["changed_at"] == "2026-01-02T00:00:00+00:00"
    assert event.envelope["correlation_id"] is None  # no context: delivered without one

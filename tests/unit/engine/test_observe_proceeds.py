"""Observed transitions proceed like steps (issue 16.1): timers armed, one auto-advance run.

A bank feed reports payments: a held payment waits three days for its release timer; a
paid one is booked at once by the one auto-advancing step that applies for ``system``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from wfnb import testing
from wfnb.engine import Engine
from wfnb.engine.results import Outcome
from wfnb.spec import Workflow
from wfnb.timers import InMemoryQueue, VirtualClock

START = datetime(2026, 3, 1, 9, tzinfo=UTC)

PAYMENT: dict[str, object] = {
    "name": "payment",
    "owning_module": "billing",
    "entity": {"table": "payments"},
    "use_cases": "wfnb.testing",
    "requester_types": ["user", "system"],
    "status_types": ["awaiting", "paid", "booked", "held", "done", "void"],
    "initial_status": "awaiting",
    "terminal_statuses": ["done", "void"],
    "steps": [
        {"key": "cancel", "status": "awaiting", "requester_types": ["user"],
         "successful_state": "void"},
        {"key": "book", "status": "paid", "requester_types": ["system"],
         "successful_state": "booked", "auto_advance": True},
        {"key": "close", "status": "booked", "requester_types": ["user"],
         "successful_state": "done"},
        {"key": "release", "status": "held", "requester_types": ["system"],
         "successful_state": "done"},
    ],
    "observed_transitions": [
        {"from": "awaiting", "to": "paid", "source": "bank"},
        {"from": "awaiting", "to": "held", "source": "bank"},
    ],
    "timers": [
        {"key": "release_hold", "status": "held", "after": "P3D", "step": "release",
         "requester_type": "system"},
    ],
}  # fmt: skip


@pytest.fixture
def setup(db_url: str) -> Iterator[tuple[Engine, InMemoryQueue]]:
    clock = VirtualClock(START)
    queue = InMemoryQueue(clock)
    wf = Workflow.model_validate(PAYMENT)
    engine = Engine([wf], db_url, queue=queue, clock=clock)
    engine.install()
    testing.create_entity_table(engine.db, wf)
    testing.insert_entity(engine.db, wf, "p1")
    try:
        yield engine, queue
    finally:
        engine.dispose()


def history(engine: Engine) -> list[tuple[str, str, str, str | None, str | None]]:
    with engine.db.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT kind, from_status, to_status, step_key, requester_type "
                "FROM workflow_history ORDER BY id"
            )
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def test_an_observation_into_a_timed_status_arms_its_timers(
    setup: tuple[Engine, InMemoryQueue], caplog: pytest.LogCaptureFixture
) -> None:
    engine, queue = setup
    with caplog.at_level(logging.WARNING, logger="wfnb"):
        result = engine.observe("payment", "p1", "held", source="bank", correlation_id="c-hold")
    assert result.outcome is Outcome.OBSERVED
    assert not [r for r in caplog.records if "after-commit" in r.getMessage()]
    (job,) = queue.pending()
    assert (job.timer_key, job.entered_version, job.due_at) == (
        "release_hold",
        1,
        START + timedelta(days=3),
    )
    assert job.envelope["correlation_id"] == "c-hold"
    assert job.envelope["requester_type"] == "system"
    assert result.chain == ()  # release is not auto-advancing: it waits for its timer
    queue.run_until(START + timedelta(days=3))
    assert history(engine) == [
        ("observed", "awaiting", "held", None, None),
        ("timer", "held", "done", "release", "system"),
    ]


def test_an_observation_auto_advances_where_one_auto_advancing_step_applies(
    setup: tuple[Engine, InMemoryQueue],
) -> None:
    engine, _ = setup
    result = engine.observe("payment", "p1", "paid", source="bank", correlation_id="c-paid")
    assert result.outcome is Outcome.OBSERVED
    assert [(r.step, r.to_status) for r in result.chain] == [("book", "booked")]
    assert result.final_status == "booked"
    assert history(engine) == [
        ("observed", "awaiting", "paid", None, None),
        ("initiated", "paid", "booked", "book", "system"),
    ]
    with engine.db.connect() as conn:
        ids = conn.execute(sa.text("SELECT DISTINCT correlation_id FROM workflow_history"))
        assert [r[0] for r in ids] == ["c-paid"]

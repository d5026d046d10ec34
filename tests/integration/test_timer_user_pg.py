"""On procrastinate a timer's step runs as its requester with no user; the armer is audit.

The in-memory twin is in ``tests/unit/engine/test_timers_wired.py``: the same envelope
(user emptied, ``armed_by`` kept, correlation id kept) crosses the durable queue's JSON.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from tests.unit.engine.test_timers_wired import WAITING
from wfnb import testing
from wfnb.engine import Engine
from wfnb.spec import Workflow
from wfnb.timers import VirtualClock
from wfnb.timers.durable import ProcrastinateQueue

pytestmark = pytest.mark.pg


def test_a_durable_timer_runs_without_the_arming_user_who_is_kept_as_armed_by(
    pg_url: str,
) -> None:
    wf = Workflow.model_validate(WAITING)
    past = VirtualClock(datetime(2020, 1, 1, tzinfo=UTC))  # every timer is due at once
    with ProcrastinateQueue(pg_url) as queue:
        engine = Engine([wf], pg_url, queue=queue, clock=past)
        engine.install()
        testing.create_entity_table(engine.db, wf)
        testing.insert_entity(engine.db, wf, "a1")
        try:
            engine.execute_step(
                "application", "a1", "user", step="park", user_id="admin:bob", correlation_id="c-0"
            )
            engine.execute_step(
                "application",
                "a1",
                "user",
                step="resume",
                user_id="admin:bob",
                correlation_id="c-1",
            )
            armed = [j for j in queue.pending() if j.entered_version == 2]
            assert {(j.envelope["user_id"], j.envelope["armed_by"]) for j in armed} == {
                (None, "admin:bob")
            }
            queue.bind(engine)
            queue.run_worker(wait=False, install_signal_handlers=False, poll_interval=0.1)
            with engine.db.connect() as conn:
                rows = list(
                    conn.execute(
                        sa.text(
                            "SELECT user_id, correlation_id, metadata FROM workflow_history "
                            "WHERE kind = 'timer' ORDER BY id"
                        )
                    )
                )
        finally:
            engine.dispose()
    assert rows
    for user, correlation, metadata in rows:
        meta = metadata if isinstance(metadata, dict) else json.loads(metadata)
        assert (user, correlation, meta["armed_by"]) == (None, "c-1", "admin:bob")

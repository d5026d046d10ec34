"""Observed transitions arm durable timers on procrastinate (issue 16.1), not only on recovery."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.unit.engine.test_observe_proceeds import PAYMENT
from wfnb import testing
from wfnb.engine import Engine
from wfnb.spec import Workflow
from wfnb.timers import VirtualClock
from wfnb.timers.durable import ProcrastinateQueue

pytestmark = pytest.mark.pg


def test_an_observation_arms_durable_timers_at_once(pg_url: str) -> None:
    wf = Workflow.model_validate(PAYMENT)
    clock = VirtualClock(datetime(2026, 3, 1, tzinfo=UTC))
    with ProcrastinateQueue(pg_url) as queue:
        engine = Engine([wf], pg_url, queue=queue, clock=clock)
        engine.install()
        testing.create_entity_table(engine.db, wf)
        testing.insert_entity(engine.db, wf, "p1")
        try:
            result = engine.observe("payment", "p1", "held", source="bank", correlation_id="c-9")
            assert result.ok
            (job,) = queue.pending()
            assert (job.entity_id, job.timer_key, job.entered_version) == ("p1", "release_hold", 1)
            assert job.envelope["correlation_id"] == "c-9"
            assert job.envelope["requester_type"] == "system"
        finally:
            engine.dispose()

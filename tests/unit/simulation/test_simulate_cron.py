"""Simulated system work runs in a cron context where the workflow asks for one (ADR 0103)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.unit.simulation.conftest import history
from wfnb.simulation import simulate
from wfnb.simulation.simulate import SIMULATION_CRON
from wfnb.testing import create_entity_table, make_workflow

START = datetime(2026, 5, 1, tzinfo=UTC)
FIXED = {"dist": "fixed", "value": "PT1H"}


def _scenario(batch: bool) -> dict[str, object]:
    resolve = {"step": "resolve", "requester_type": "system", "delay": FIXED}
    return {
        "workflows": {
            "ticket": {
                "statuses": {
                    "draft": [{"step": "submit", "requester_type": "admin", "delay": FIXED}],
                    "triaged": [{**resolve, "batch": True} if batch else resolve],
                    "resolved": [{"silence": True}],
                }
            }
        },
        "arrivals": [{"workflow": "ticket", "count": 3, "every": "PT1H"}],
    }


@pytest.mark.parametrize("batch", [False, True], ids=["one-by-one", "batched"])
def test_a_declared_system_requester_is_simulated_inside_a_cron(db_url: str, batch: bool) -> None:
    wf = make_workflow(system_requester_types=["system"])
    db = sa.create_engine(db_url)
    create_entity_table(db, wf)
    report = simulate(
        db, [wf], _scenario(batch), start=START, until=timedelta(days=2), progress=False
    )
    rows = history(db)
    db.dispose()
    resolved = rows[rows.step_key == "resolve"]
    assert len(resolved) == 6, report  # claimed, then resolved: three tickets
    assert set(resolved.requester_type) == {"system"}
    assert set(resolved.metadata.map(lambda m: m.get("cron"))) == {SIMULATION_CRON}
    submitted = rows[rows.step_key == "submit"]
    assert not submitted.metadata.map(lambda m: "cron" in m).any()  # admin: no cron

"""The simulation loop: timers at their virtual moments, reproducibility, both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from tests.unit.simulation.conftest import history
from wfnb.examples.energy import janitors, schema
from wfnb.simulation import Scenario, simulate
from wfnb.simulation.energy import energy_scenario
from wfnb.testing import create_entity_table, make_workflow
from wfnb.validation import load_workflows

START = datetime(2026, 5, 1, tzinfo=UTC)


def _fixed(value: str) -> dict[str, str]:
    return {"dist": "fixed", "value": value}


TICKETS = {
    "workflows": {
        "ticket": {
            "statuses": {
                "draft": [{"step": "submit", "requester_type": "user", "delay": _fixed("PT1H")}],
                "triaged": [
                    {"step": "resolve", "requester_type": "admin", "delay": _fixed("PT2H")}
                ],
                "resolved": [{"silence": True}],
            }
        }
    },
    "arrivals": [{"workflow": "ticket", "count": 3, "every": "PT1H"}],
}


def test_a_silent_entity_is_moved_by_its_timer_at_the_virtual_moment(db_url: str) -> None:
    wf = make_workflow()
    db = sa.create_engine(db_url)
    create_entity_table(db, wf)
    report = simulate(db, [wf], TICKETS, start=START, until=timedelta(days=40), progress=False)
    rows = history(db)
    resolved = rows[rows.to_status == "resolved"].set_index("entity_id").changed_at
    closed = rows[rows.kind == "timer"].set_index("entity_id")
    assert len(closed) == 3
    assert (closed.step_key == "close").all()
    waited = pd.to_datetime(closed.changed_at, utc=True) - pd.to_datetime(
        resolved.loc[closed.index], utc=True
    )
    assert (waited == pd.Timedelta(days=7)).all()
    assert report.timers_fired == 3
    assert report.created == {"ticket": 3}
    db.dispose()


def _energy_history(url: str, seed: int) -> pd.DataFrame:
    db = sa.create_engine(url)
    schema.create_schema(db)
    simulate(
        db,
        load_workflows([*schema.example_workflows().values()]),
        energy_scenario(users=25, groups=2, months=2),
        start=START,
        until=timedelta(days=61),
        seed=seed,
        progress=False,
        janitors=janitors(),
    )
    rows = history(db).drop(columns=["id", "duration_ms"])
    db.dispose()
    return rows


def test_the_same_seed_writes_the_same_history(tmp_path: Any) -> None:
    first = _energy_history(f"sqlite:///{tmp_path / 'a.db'}", seed=3)
    again = _energy_history(f"sqlite:///{tmp_path / 'b.db'}", seed=3)
    other = _energy_history(f"sqlite:///{tmp_path / 'c.db'}", seed=4)
    assert len(first) > 100
    pd.testing.assert_frame_equal(first, again)
    assert not first.equals(other)
    assert first.correlation_id.str.startswith("sim-3-").all()


def test_payloads_are_kept_on_the_first_row_of_each_call(db_url: str) -> None:
    rows = _energy_history(db_url, seed=5)
    uploads = rows[(rows.step_key == "upload_documents") & (rows.requester_type == "user")]
    assert len(uploads) > 0
    kept = uploads.metadata.map(lambda m: "documents" in m["request"]["data"])
    assert kept.all()
    chained = rows[rows.step_key == "queue_for_review"]
    assert not chained.metadata.map(lambda m: "request" in m).any()


def test_a_scenario_loads_from_a_json_file(tmp_path: Any) -> None:
    path = tmp_path / "scenario.json"
    path.write_text(Scenario.model_validate(TICKETS).model_dump_json(), encoding="utf-8")
    from wfnb.simulation import load_scenario

    loaded = load_scenario(path)
    assert loaded == Scenario.model_validate(TICKETS)
    assert loaded.workflows["ticket"].statuses["draft"][0].kind == "step"


@pytest.mark.parametrize(
    "action",
    [
        {"step": "submit"},  # no requester type
        {"step": "submit", "requester_type": "user", "silence": True},  # two kinds
        {"silence": True, "delay": {"dist": "exponential"}},  # no mean
        {"silence": True, "delay": {"dist": "fixed", "value": "7 days"}},  # not ISO-8601
    ],
)
def test_malformed_actions_are_refused(action: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="validation error"):
        Scenario.model_validate({"workflows": {"ticket": {"statuses": {"draft": [action]}}}})

"""What-if replays of the demo history under candidate configs."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from tests.unit.simulation.conftest import history
from wfnb.examples.energy import schema
from wfnb.simulation.demo import DemoReport
from wfnb.simulation.recorded import read_recorded
from wfnb.simulation.replay import Replay
from wfnb.simulation.whatif import what_if
from wfnb.spec import Workflow
from wfnb.validation import load_workflows


def _without(wf: Workflow, step: str) -> Workflow:
    data = wf.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    data["steps"] = [s for s in data["steps"] if s["key"] != step]
    return Workflow.model_validate(data)


def test_replaying_the_running_config_changes_nothing(demo_db: sa.Engine) -> None:
    wfs = load_workflows([*schema.example_workflows().values()])
    report = what_if(demo_db, wfs, wfs["invoice"])
    assert report.summary["unchanged"] == len(report.rows) > 20
    assert report.affected() == set()


def test_removing_a_step_affects_exactly_the_entities_that_used_it(
    demo: DemoReport, demo_db: sa.Engine
) -> None:
    wfs = load_workflows([*schema.example_workflows().values()])
    report = what_if(demo_db, wfs, _without(wfs["invoice"], "record_payment"), workflow="invoice")
    rows = history(demo_db)
    used = rows[(rows.workflow == "invoice") & (rows.step_key == "record_payment")]
    expected = set(used.entity_id)
    assert expected
    assert report.affected() == expected
    frame = report.to_frame().set_index("entity_id").loc[sorted(expected)]
    assert (frame.category == "failed").all()
    assert (frame.error == "WF202").all()
    assert (frame.step == "record_payment").all()
    assert len(report.rows) == rows[rows.workflow == "invoice"].entity_id.nunique()


def test_a_shorter_deadline_shows_up_as_a_timer(demo_db: sa.Engine) -> None:
    wfs = load_workflows([*schema.example_workflows().values()])
    data = wfs["invoice"].model_dump(mode="json", by_alias=True, exclude_defaults=True)
    data["timers"] = [{**t, "after": "P2D"} if t["key"] == "due" else t for t in data["timers"]]
    report = what_if(demo_db, wfs, Workflow.model_validate(data), workflow="invoice")
    rows = history(demo_db)
    inv = rows[rows.workflow == "invoice"].assign(
        moment=lambda f: pd.to_datetime(f.changed_at, utc=True)
    )
    sent = inv[inv.to_status == "sent"].groupby("entity_id").moment.first()
    gone = inv[(inv.from_status == "sent") & (inv.to_status != "sent")]
    left = gone.groupby("entity_id").moment.first().reindex(sent.index)
    deadline = sent + pd.Timedelta(days=2)
    stayed = left.isna() & (deadline <= inv.moment.max())
    quick = set(sent.index[stayed | (left > deadline)])
    timer = {r["entity_id"] for r in report.rows if r["category"] == "timer"}
    assert quick
    assert timer == quick


def test_a_replayed_request_is_run_by_the_person_who_ran_it(demo_db: sa.Engine) -> None:
    wfs = load_workflows([*schema.example_workflows().values()])
    rows = history(demo_db)
    admin = rows[(rows.workflow == "user_registration") & (rows.requester_type == "admin")]
    entity = str(admin.entity_id.iloc[0])
    (recorded,) = read_recorded(demo_db, ["user_registration"], entities=[entity])
    replay = Replay(demo_db, wfs, start=recorded.requests[0].at)
    try:
        for request in recorded.requests:
            replay.run(recorded, request)
        with replay.db.connect() as conn:
            replayed = conn.execute(
                sa.text("SELECT requester_type, user_id FROM workflow_history ORDER BY id")
            ).all()
    finally:
        replay.engine.dispose()
        replay.folder.cleanup()
    recorded_people = {(r.requester_type, r.user_id) for r in recorded.requests}
    assert ("admin", admin.user_id.iloc[0]) in recorded_people
    assert {(t, u) for t, u in replayed if t in {"user", "admin"}} == {
        (t, u) for t, u in recorded_people if t in {"user", "admin"}
    }

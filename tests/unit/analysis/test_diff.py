"""diff(): each kind of change, the rename heuristics, and the migration rule."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tests.unit.analysis.builders import invoice, step
from wfnb.analysis import ChangeKind, WorkflowDiff, diff
from wfnb.exceptions import ConfigError, WfnbUsageError
from wfnb.spec import Workflow

K = ChangeKind


def _wf(data: dict[str, Any]) -> Workflow:
    return Workflow.model_validate(data)


def _edit(**changes: Any) -> Workflow:
    return _wf(invoice(**changes))


def _steps(**replace: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The invoice's steps with some replaced (a dict) or dropped (None)."""
    out = []
    for s in invoice()["steps"]:
        new = replace.get(s["key"], s)
        if new is not None:
            out.append(new)
    return out


def _kinds(d: WorkflowDiff) -> list[tuple[str, str]]:
    return [(str(c.kind), c.subject) for c in d.changes]


BASE = _wf(invoice())


def test_identical_versions_have_no_changes():
    d = diff(BASE, _wf(invoice()))
    assert d.changes == ()
    assert not d.migration_needed
    assert "no changes" in str(d)


def test_adding_a_status_needs_no_migration():
    new = _edit(
        status_types=[*invoice()["status_types"], "on_hold"],
        steps=[*invoice()["steps"], step("hold", "review", "on_hold")],
    )
    d = diff(BASE, new)
    assert _kinds(d) == [("status_added", "on_hold"), ("step_added", "hold")]
    assert not d.migration_needed
    assert d.changes[0].note.startswith("no migration")


def test_removing_a_status_needs_a_migration_to_the_status_before_it():
    new = _edit(
        status_types=["draft", "approved", "paid", "cancelled"],
        steps=_steps(submit=None, approve={**invoice()["steps"][1], "status": "draft"}),
    )
    d = diff(BASE, new)
    assert _kinds(d) == [
        ("status_removed", "review"),
        ("step_removed", "submit"),
        ("step_status", "approve"),
    ]
    removed = d.changes[0]
    assert removed.migration_needed
    assert (removed.old, removed.new, removed.target) == ("review", None, "draft")
    assert "suggested target 'draft'" in removed.note
    assert d.migration_needed
    assert d.migrations == (removed,)
    assert not any(c.migration_needed for c in d.changes[1:])


def test_a_removed_terminal_status_maps_to_a_terminal_one_of_the_same_kind():
    new = _edit(
        status_types=["draft", "review", "approved", "paid", "void"],
        terminal_statuses=["paid", "void"],
        failure_statuses=["void"],
        steps=_steps(
            cancel=step("cancel", "draft", "void"),
            approve={**invoice()["steps"][1], "rejection": {"state": "void"}},
        ),
    )
    d = diff(BASE, new)
    by_subject = {c.subject: c for c in d.changes}
    # 'void' is also where approve now rejects to, so its edges differ from 'cancelled''s:
    # not a rename, but a removal and an addition
    assert by_subject["cancelled"].kind == K.STATUS_REMOVED
    assert by_subject["cancelled"].target == "void"
    assert "failure status" in by_subject["cancelled"].note
    assert by_subject["void"].kind == K.STATUS_ADDED


def test_a_terminal_status_renamed_with_the_same_edges_is_a_rename():
    new = _edit(
        status_types=["draft", "review", "approved", "paid", "void"],
        terminal_statuses=["paid", "void"],
        failure_statuses=["void"],
        steps=_steps(cancel=step("cancel", "draft", "void", requester_types=["user", "admin"])),
    )
    assert _kinds(diff(BASE, new)) == [("status_renamed", "cancelled")]


def test_a_renamed_status_is_one_change_not_one_per_reference():
    data = json.loads(json.dumps(invoice()).replace('"approved"', '"accepted"'))
    d = diff(BASE, _wf(data))
    assert _kinds(d) == [("status_renamed", "approved")]
    (change,) = d.changes
    assert (change.old, change.new, change.target) == ("approved", "accepted", "accepted")
    assert change.migration_needed
    assert d.status_renames == {"approved": "accepted"}


def test_a_status_and_its_steps_renamed_together_are_both_recognised():
    text = json.dumps(invoice()).replace('"approved"', '"accepted"').replace('"pay"', '"settle"')
    d = diff(BASE, _wf(json.loads(text)))
    assert _kinds(d) == [("status_renamed", "approved"), ("step_renamed", "pay")]
    assert d.step_renames == {"pay": "settle"}
    assert [c.migration_needed for c in d.changes] == [True, False]


def test_two_statuses_that_fit_equally_are_not_guessed_as_renames():
    old = _wf(
        invoice(
            status_types=["draft", "review", "approved", "paid", "cancelled", "x1", "x2"],
            steps=[*invoice()["steps"], step("to1", "draft", "x1"), step("to2", "draft", "x2")],
        )
    )
    new = _wf(
        invoice(
            status_types=["draft", "review", "approved", "paid", "cancelled", "y1", "y2"],
            steps=[*invoice()["steps"], step("to1", "draft", "y1"), step("to2", "draft", "y2")],
        )
    )
    d = diff(old, new)
    kinds = {(str(c.kind), c.subject) for c in d.changes}
    assert {("status_removed", "x1"), ("status_removed", "x2")} <= kinds
    assert {("status_added", "y1"), ("status_added", "y2")} <= kinds
    assert d.status_renames == {}


def test_a_renamed_step_keeps_status_targets_and_use_cases():
    renamed = {**invoice()["steps"][1], "key": "accept"}
    d = diff(BASE, _edit(steps=_steps(approve=renamed)))
    assert _kinds(d) == [("step_renamed", "approve")]
    assert not d.migration_needed
    moved = {**invoice()["steps"][1], "key": "accept", "validation": "other_check"}
    d2 = diff(BASE, _edit(steps=_steps(approve=moved)))
    assert _kinds(d2) == [("step_removed", "approve"), ("step_added", "accept")]


def test_removing_the_only_step_out_of_a_status_says_a_new_step_is_needed():
    d = diff(BASE, _edit(steps=_steps(pay=None), timers=[]))
    removed = next(c for c in d.changes if c.kind == K.STEP_REMOVED)
    assert not removed.migration_needed
    assert "'approved' now has no step or observed transition out" in removed.note


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        ({"successful_state": "cancelled"}, (K.SUCCESSFUL_STATE, "pay", "paid", "cancelled")),
        ({"validation": "check_more"}, (K.USE_CASE, "pay.validation", None, "check_more")),
        ({"action": "wire_money"}, (K.USE_CASE, "pay.action", "send_payment", "wire_money")),
        ({"requester_types": ["admin"]}, (K.REQUESTER_TYPES, "pay", None, ("admin",))),
        ({"auto_advance": True}, (K.AUTO_ADVANCE, "pay", False, True)),
        ({"rejection": {"state": "approved"}}, (K.REJECTION, "pay", None, "approved")),
        (
            {"overrides": {"admin": {"successful_state": "cancelled"}}},
            (K.OVERRIDE, "pay[admin]", None, {"successful_state": "cancelled"}),
        ),
    ],
)
def test_step_field_changes_need_no_migration(edit, expected):  # type: ignore[no-untyped-def]
    pay = {**invoice()["steps"][2], **edit}
    d = diff(BASE, _edit(steps=_steps(pay=pay)))
    assert [(c.kind, c.subject, c.old, c.new) for c in d.changes] == [expected]
    assert not d.migration_needed


def test_adding_a_claim_adds_its_status_and_a_claim_change():
    pay = {**invoice()["steps"][2], "claim": {"status": "paying", "stale_after": "PT5M"}}
    new = _edit(status_types=[*invoice()["status_types"], "paying"], steps=_steps(pay=pay))
    d = diff(BASE, new)
    assert [(c.kind, c.subject, c.old, c.new) for c in d.changes] == [
        (K.STATUS_ADDED, "paying", None, "paying"),
        (K.CLAIM, "pay", None, {"status": "paying", "stale_after": "PT5M"}),
    ]
    assert not d.migration_needed


def test_timer_added_removed_and_changed():
    timer = invoice()["timers"][0]
    changed = diff(BASE, _edit(timers=[{**timer, "after": "P7D"}]))
    assert [(c.kind, c.subject) for c in changed.changes] == [(K.TIMER_CHANGED, "auto_pay")]
    assert (changed.changes[0].old["after"], changed.changes[0].new["after"]) == ("P14D", "P7D")
    assert _kinds(diff(BASE, _edit(timers=[]))) == [("timer_removed", "auto_pay")]
    extra = {**timer, "key": "remind", "status": "review"}
    assert _kinds(diff(BASE, _edit(timers=[timer, extra]))) == [("timer_added", "remind")]


def test_workflow_level_changes():
    obs = [{"from": "approved", "to": "paid", "source": "bank"}]
    new = _edit(
        requester_types=["user", "admin", "system", "bot"],
        initial_status="review",
        terminal_statuses=["paid"],
        failure_statuses=[],
        observed_transitions=obs,
        use_cases="billing.cases",
        entity={"table": "bills"},
    )
    d = diff(BASE, new)
    assert set(_kinds(d)) == {
        ("observed_added", "approved -> paid (bank)"),
        ("initial_status", "initial_status"),
        ("terminal_statuses", "terminal_statuses"),
        ("failure_statuses", "failure_statuses"),
        ("requester_types", "requester_types"),
        ("use_case", "use_cases"),
        ("entity", "entity"),
    }
    assert not d.migration_needed
    back = diff(new, BASE)
    assert ("observed_removed", "approved -> paid (bank)") in _kinds(back)


def test_diff_of_two_files_and_its_displays(tmp_path: Path):
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps(invoice()))
    data = copy.deepcopy(invoice())
    data["status_types"].remove("review")
    data["steps"] = _steps(submit=None, approve={**invoice()["steps"][1], "status": "draft"})
    new.write_text(json.dumps(data))
    d = diff(old, str(new))
    assert d.migration_needed
    frame = d.to_frame()
    assert list(frame["kind"]) == ["status_removed", "step_removed", "step_status"]
    assert list(frame["migration_needed"]) == [True, False, False]
    assert frame.loc[0, "target"] == "draft"
    assert repr(d) == "<WorkflowDiff 'invoice': 3 changes, 1 needing migration>"
    assert "status review removed (entities must migrate)" in str(d)
    html = d._repr_html_()
    assert "<table" in html
    assert "status_removed" in html


def test_a_broken_file_is_a_config_error_and_a_folder_a_usage_error(tmp_path: Path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="WF100"):
        diff(bad, BASE)
    folder = tmp_path / "many"
    folder.mkdir()
    for name in ("a", "b"):
        (folder / f"{name}.json").write_text(json.dumps(invoice(name=name)))
    with pytest.raises(WfnbUsageError, match="2 workflows"):
        diff(folder, BASE)

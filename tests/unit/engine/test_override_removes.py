"""Overrides can remove a field (issue 16.8): an explicit null removes it for that requester.

``"claim": null`` in the system's override of ``resolve`` means the system resolves without
a claim, while an admin still claims; a null ``successful_state`` is WF104. The null is
kept through serialisation, so it round-trips and counts in the config hash.
"""

from __future__ import annotations

import copy
from typing import Any

from tests.engines import Build
from tests.unit.engine.conftest import history
from wfnb import testing
from wfnb.spec import Workflow
from wfnb.validation import validate


def steps_with(key: str, override: dict[str, Any]) -> list[dict[str, Any]]:
    """The default steps, ``key`` given ``override`` for the system requester."""
    steps = copy.deepcopy(testing.DEFAULT_WORKFLOW["steps"])
    for step in steps:
        if step["key"] == key:
            step["overrides"] = {"system": override}
    return steps


def test_a_null_claim_in_an_override_removes_the_claim_for_that_requester(build: Build) -> None:
    engine, wf = build(entities=2, status="triaged", steps=steps_with("resolve", {"claim": None}))
    assert wf.steps_for("triaged", "system")[0].claim is None
    assert wf.steps_for("triaged", "admin")[0].claim is not None
    assert engine.execute_step("ticket", "e0", "system", step="resolve").ok
    assert history(engine, "e0") == [("initiated", "triaged", "resolved")]  # no claim
    assert engine.execute_step("ticket", "e1", "admin", step="resolve").ok
    assert [kind for kind, *_ in history(engine, "e1")] == ["claimed", "initiated"]


def test_a_null_auto_advance_or_validation_removes_them(build: Build) -> None:
    steps = copy.deepcopy(testing.DEFAULT_WORKFLOW["steps"])
    steps[0]["overrides"] = {"admin": {"auto_advance": None, "validation": None}}
    steps[0]["requester_types"] = ["user", "admin"]
    _, wf = build(steps=steps)
    (submit,) = wf.steps_for("draft", "admin")
    assert (submit.auto_advance, submit.validation, submit.action) == (False, None, "act")
    (as_user,) = wf.steps_for("draft", "user")
    assert (as_user.auto_advance, as_user.validation) == (True, "check")


def test_a_null_required_field_in_an_override_is_wf104() -> None:
    data = testing.make_workflow().model_dump(mode="json", by_alias=True)
    data["steps"] = steps_with("resolve", {"successful_state": None})
    report = validate(data)
    assert {(p.code, p.pointer) for p in report.errors} == {
        ("WF104", "/steps/3/overrides/system/successful_state")
    }
    assert "cannot be removed" in report.errors[0].message


def test_an_explicit_null_round_trips_and_changes_the_config_hash() -> None:
    removed = testing.make_workflow(steps=steps_with("resolve", {"claim": None}))
    kept = testing.make_workflow(steps=steps_with("resolve", {}))
    assert removed.config_hash != kept.config_hash
    again = Workflow.model_validate(removed.model_dump(mode="json", by_alias=True))
    assert again.config_hash == removed.config_hash
    assert again.steps_for("triaged", "system")[0].claim is None
    plain = Workflow.model_validate(kept.model_dump(mode="json", by_alias=True))
    assert plain.steps_for("triaged", "system")[0].claim is not None  # unset stays unset

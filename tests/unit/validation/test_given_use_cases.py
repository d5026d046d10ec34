"""``validate(..., use_cases=)``: a use case defined in a notebook counts as resolvable.

A prototype (``%%wfnb_usecase``, a dry-run's ``use_cases=``) lives in no module yet; the
validator must check the rest of a prototype workflow without a WF105 for it.
"""

from __future__ import annotations

from typing import Any

from wfnb import testing
from wfnb.validation import validate

STEP = {"key": "fast_track", "status": "draft", "requester_types": ["admin"],
        "validation": "prototype_check", "successful_state": "resolved"}  # fmt: skip


def _prototype() -> dict[str, Any]:
    raw = testing.make_workflow().model_dump(mode="json", by_alias=True, exclude_none=True)
    raw["steps"] = [*raw["steps"], STEP]
    return raw


def prototype_check(ctx: Any) -> None:
    """A notebook's prototype: never imported from a module."""


def test_a_given_use_case_resolves() -> None:
    assert [p.code for p in validate(_prototype()).problems] == ["WF105"]
    report = validate(_prototype(), use_cases={"prototype_check": prototype_check})
    assert report.problems == ()
    assert report.ok


def test_a_given_name_that_is_not_callable_still_fails() -> None:
    report = validate(_prototype(), use_cases={"prototype_check": "not a function"})  # type: ignore[dict-item]
    assert [p.code for p in report.problems] == ["WF105"]


def test_given_use_cases_do_not_hide_other_missing_ones() -> None:
    raw = _prototype()
    raw["steps"][-1] = {**STEP, "action": "nowhere_yet"}
    report = validate(raw, use_cases={"prototype_check": prototype_check})
    assert [(p.code, p.pointer) for p in report.problems] == [
        ("WF105", f"/steps/{len(raw['steps']) - 1}/action")
    ]

"""Step selection is a pure function of (workflow, status, requester type, key)."""

from __future__ import annotations

import pytest

from wfnb import testing
from wfnb.engine.selection import applicable, select_step, why_not
from wfnb.exceptions import AmbiguousStepError, NoStepAppliesError

WF = testing.make_workflow()


@pytest.mark.parametrize(
    ("status", "requester", "key", "expected"),
    [
        ("draft", "user", None, "submit"),
        ("submitted", "user", None, "triage"),
        ("submitted", "admin", None, "abandon"),
        ("triaged", "system", None, "resolve"),
        ("triaged", "admin", "refuse", "refuse"),
        ("resolved", "user", "reopen", "reopen"),
    ],
)
def test_selects_the_one_step(status: str, requester: str, key: str | None, expected: str) -> None:
    assert select_step(WF, status, requester, key).key == expected


def test_the_override_is_applied_for_its_requester_only() -> None:
    assert select_step(WF, "draft", "admin").successful_state == "triaged"
    assert select_step(WF, "draft", "user").successful_state == "submitted"
    assert select_step(WF, "draft", "admin").overrides == {}


@pytest.mark.parametrize(
    ("status", "requester", "key"),
    [("triaged", "user", None), ("resolving", "admin", None), ("draft", "user", "close"),
     ("draft", "system", "submit"), ("draft", "user", "missing"), ("draft", "nobody", None)],
)  # fmt: skip
def test_wf202(status: str, requester: str, key: str | None) -> None:
    with pytest.raises(NoStepAppliesError):
        select_step(WF, status, requester, key)


def test_wf203_lists_the_candidates() -> None:
    with pytest.raises(AmbiguousStepError) as info:
        select_step(WF, "resolved", "user")
    assert info.value.fields["candidates"] == ["close", "reopen"]


def test_applicable_and_why_not() -> None:
    assert [s.key for s in applicable(WF, "triaged", "admin")] == ["resolve", "refuse"]
    step = WF.step("refuse")
    assert step is not None
    assert why_not(step, "triaged", "admin") is None
    assert "not 'user'" in (why_not(step, "triaged", "user") or "")
    assert "'draft'" in (why_not(step, "draft", "admin") or "")

"""Tenant overlays: merged at load, checked like the base, each problem at the overlay's pointer.

Each corpus case writes the valid sample and one overlay for tenant ``acme``, and asserts
the full set of errors, every one naming the overlay file (the base stays clean).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.unit.validation.sample import located, sample
from wfnb.analysis import diff_tenant
from wfnb.exceptions import ConfigError
from wfnb.validation import load_workflows, validate

OVERLAY = "tenants/acme/invoice.json"


def folder(tmp_path: Path, overlay: Any, name: str = "invoice", base: Any = None) -> Path:
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "invoice.json").write_text(json.dumps(base or sample()))
    target = tmp_path / "tenants" / "acme" / f"{name}.json"
    target.parent.mkdir(parents=True)
    target.write_text(overlay if isinstance(overlay, str) else json.dumps(overlay))
    return tmp_path


def case(name: str, overlay: Any, *expected: tuple[str, str]) -> Any:
    return pytest.param(overlay, set(expected), id=name)


LOOP = {"steps": {"send": {"auto_advance": True}, "remind": {"auto_advance": True}}}

CASES = [
    case("not-json", "{", ("WF100", "")),
    case("not-an-object", [1], ("WF101", "")),
    case("unknown-field", {"colour": "red"}, ("WF101", "/colour")),
    case("unknown-step-field", {"steps": {"send": {"colour": 1}}}, ("WF101", "/steps/send/colour")),
    case("timers-not-object", {"timers": []}, ("WF101", "/timers")),
    case(
        "bad-flag",
        {"steps": {"send": {"auto_advance": "yes"}}},
        ("WF101", "/steps/send/auto_advance"),
    ),
    case("status-types", {"status_types": ["draft"]}, ("WF114", "/status_types")),
    case("entity", {"entity": {"table": "other"}}, ("WF114", "/entity")),
    case(
        "successful-state",
        {"steps": {"send": {"successful_state": "paid"}}},
        ("WF114", "/steps/send/successful_state"),
    ),
    case("claim", {"steps": {"approve": {"claim": None}}}, ("WF114", "/steps/approve/claim")),
    case(
        "requester-types",
        {"steps": {"send": {"requester_types": ["user"]}}},
        ("WF114", "/steps/send/requester_types"),
    ),
    case(
        "override-target",
        {"steps": {"submit": {"overrides": {"admin": {"successful_state": "approved"}}}}},
        ("WF114", "/steps/submit/overrides/admin/successful_state"),
    ),
    case(
        "timer-step",
        {"timers": {"auto_send": {"step": "remind"}}},
        ("WF114", "/timers/auto_send/step"),
    ),
    case(
        "missing-timer",
        {"timers": {"auto_sent": {"after": "PT2H"}}},
        ("WF114", "/timers/auto_sent"),
    ),
    case("missing-step", {"steps": {"sned": {"action": "book"}}}, ("WF114", "/steps/sned")),
    case(
        "null-after",
        {"timers": {"auto_send": {"after": None}}},
        ("WF114", "/timers/auto_send/after"),
    ),
    case("null-use-cases", {"use_cases": None}, ("WF114", "/use_cases")),
    case(
        "bad-duration",
        {"timers": {"auto_send": {"after": "P1X"}}},
        ("WF111", "/timers/auto_send/after"),
    ),
    case(
        "negative-duration",
        {"timers": {"auto_send": {"after": "-P1D"}}},
        ("WF111", "/timers/auto_send/after"),
    ),
    case(
        "undeclared-requester",
        {"steps": {"send": {"overrides": {"robot": {"action": "book"}}}}},
        ("WF104", "/steps/send/overrides/robot"),
    ),
    case(
        "missing-use-case", {"steps": {"send": {"action": "bok"}}}, ("WF105", "/steps/send/action")
    ),
    case("module-not-importable", {"use_cases": "no.such.module"}, ("WF105", "/use_cases")),
    case("auto-advance-loop", LOOP, ("WF107", "/steps/remind/auto_advance")),
]


@pytest.mark.parametrize(("overlay", "expected"), CASES)
def test_each_bad_overlay_reports_its_code_at_its_pointer_in_the_overlay(
    tmp_path: Path, overlay: Any, expected: set[tuple[str, str]]
) -> None:
    report = validate(folder(tmp_path, overlay))
    assert located(report) == expected, report.problems
    assert not report.ok
    for problem in report.errors:
        assert problem.file.endswith(OVERLAY)
        assert problem.workflow == "invoice"
    with pytest.raises(ConfigError):  # the engine's loader refuses to start on it
        load_workflows(folder(tmp_path / "again", overlay))


def test_every_overlay_code_is_planted() -> None:
    codes = {code for param in CASES for code, _ in param.values[1]}
    assert codes >= {"WF100", "WF101", "WF104", "WF105", "WF107", "WF111", "WF114"}


def test_an_overlay_for_an_unknown_workflow_is_wf114(tmp_path: Path) -> None:
    report = validate(folder(tmp_path, {}, name="invoce"))
    assert located(report) == {("WF114", "")}
    assert "'invoce'" in report.errors[0].message
    assert report.errors[0].file.endswith("tenants/acme/invoce.json")


def test_the_problem_is_one_line_naming_the_file_and_pointer(tmp_path: Path) -> None:
    report = validate(folder(tmp_path, {"timers": {"auto_sent": {"after": "PT2H"}}}))
    (problem,) = report.errors
    line = problem.one_line()
    assert line.startswith(str(tmp_path / OVERLAY) + ":/timers/auto_sent: WF114 ")
    assert "'auto_sent'" in line
    assert "auto_send" in line  # the timers it could mean


def test_a_problem_the_base_has_is_reported_once_against_the_base(tmp_path: Path) -> None:
    broken = sample()
    broken["steps"][2]["action"] = "bok"  # WF105 in the base, whatever the overlay says
    report = validate(folder(tmp_path, {"timers": {"auto_send": {"after": "PT2H"}}}, base=broken))
    assert located(report) == {("WF105", "/steps/2/action")}
    assert report.errors[0].file.endswith("invoice.json")
    assert "tenants" not in report.errors[0].file


def test_the_merge_changes_exactly_what_the_overlay_says(tmp_path: Path) -> None:
    overlay = {
        "description": "acme waits two hours and books without checking its admins' lines",
        "use_cases": "tests.unit.validation.sample_usecases",
        "timers": {"auto_send": {"after": "PT2H"}},
        "steps": {
            "submit": {"overrides": {"admin": {"validation": None}}},
            "cancel": {"action": "notify"},
            "send": {"validation": "check_lines", "action": None},
        },
    }
    wfs = load_workflows(folder(tmp_path, overlay))
    base = wfs["invoice"]
    merged = base.for_tenant("acme")
    assert merged.tenant == "acme"
    assert merged.overlay_file is not None
    assert merged.overlay_file.endswith(OVERLAY)
    assert merged.config_hash != base.config_hash
    assert merged.base is base
    assert base.tenant_configs == {"acme": merged}
    assert base.for_tenant(None) is base
    assert base.for_tenant("globex") is base
    assert merged.timers[1].after == "PT2H"
    assert merged.step("cancel").action == "notify"  # type: ignore[union-attr]
    assert merged.step("send").action is None  # type: ignore[union-attr]
    assert merged.steps_for("draft", "admin")[0].validation is None  # null removes
    assert merged.steps_for("draft", "user")[0].validation == "check_lines"
    assert merged.status_types == base.status_types
    changes = diff_tenant(base, "acme")
    assert sorted((str(c.kind), c.subject) for c in changes) == [
        ("override", "submit[admin]"),
        ("timer_changed", "auto_send"),
        ("use_case", "cancel.action"),
        ("use_case", "send.action"),
        ("use_case", "send.validation"),
    ]
    assert "validation removed" in str(changes)
    assert "as tenant acme runs it" in str(changes)
    assert list(diff_tenant(base, "globex")) == []
    from_file = diff_tenant(tmp_path / "invoice.json", "acme")
    assert [c.subject for c in from_file] == [c.subject for c in changes]


def test_an_empty_overlay_is_the_base_config(tmp_path: Path) -> None:
    wfs = load_workflows(folder(tmp_path, {}))
    assert wfs["invoice"].for_tenant("acme").config_hash == wfs["invoice"].config_hash


def test_overlays_are_read_only_from_a_folder_given(tmp_path: Path) -> None:
    folder(tmp_path, {"colour": "red"})
    assert validate(tmp_path / "invoice.json").ok  # a file alone: no tenants folder read
    assert not validate(tmp_path).ok


def test_linked_configs_compare_pickle_and_copy(tmp_path: Path) -> None:
    import copy
    import pickle

    path = folder(tmp_path, {"timers": {"auto_send": {"after": "PT2H"}}})
    base, again = load_workflows(path)["invoice"], load_workflows(path)["invoice"]
    assert base == again  # the base and its tenant point at each other: no endless compare
    assert base.for_tenant("acme") == again.for_tenant("acme")
    assert base != base.for_tenant("acme")
    for clone in (pickle.loads(pickle.dumps(base)), copy.deepcopy(base)):
        assert clone == base
        assert clone.for_tenant("acme").base is clone
        assert clone.for_tenant("acme").timers[1].after == "PT2H"

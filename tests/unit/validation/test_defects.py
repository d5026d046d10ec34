"""A corpus of planted defects: each reports exactly its code at exactly its pointer.

Every case breaks the valid sample in one place and asserts the full set of errors, so a
check that also fires elsewhere (a cascade, a duplicate report) fails the case too.
"""

from pathlib import Path
from typing import Any

import pytest

from tests.unit.validation.sample import USE_CASES, located, patched, sample
from wfnb.validation import validate

CANCEL = sample()["steps"][1]
REMIND_TIMER = sample()["timers"][0]


def step(key: str, status: str, to: str, **more: Any) -> dict[str, Any]:
    return {"key": key, "status": status, "successful_state": to, **more}


def rep(where: str, value: Any) -> tuple[Any, ...]:
    return ("replace", where, value)


def add(where: str, value: Any) -> tuple[Any, ...]:
    return ("add", where, value)


def rem(where: str) -> tuple[Any, ...]:
    return ("remove", where)


def case(name: str, code: str, where: str, *ops: tuple[Any, ...]) -> Any:
    return pytest.param(ops, code, where, id=name)


CLAIM_TERMINAL = {"status": "cancelled", "stale_after": "PT5M"}
PAY_NOW = step("pay_now", "approved", "paid", requester_types=["admin"], claim=CLAIM_TERMINAL)
REFUND = {"from": "sent", "to": "refunded", "source": "bank"}
REOPEN = {"from": "cancelled", "to": "draft", "source": "bank"}
SEND_BACK = {"admin": {"successful_state": "submitted", "auto_advance": True}}

CASES = [
    # WF101 schema violation (found by the loader; the rest is still checked)
    case("wf101-missing", "WF101", "/steps/1/successful_state", rem("/steps/1/successful_state")),
    case("wf101-unknown", "WF101", "/colour", add("/colour", "red")),
    case("wf101-type", "WF101", "/steps/2/auto_advance", rep("/steps/2/auto_advance", "maybe")),
    case("wf101-name", "WF101", "/name", rep("/name", "Invoice")),
    # WF102 duplicates
    case("wf102-status", "WF102", "/status_types/7", add("/status_types/-", "sent")),
    case("wf102-step", "WF102", "/steps/5/key", add("/steps/-", CANCEL)),
    case("wf102-timer", "WF102", "/timers/2/key", add("/timers/-", REMIND_TIMER)),
    # WF103 undeclared statuses
    case(
        "wf103-override",
        "WF103",
        "/steps/0/overrides/admin/successful_state",
        rep("/steps/0/overrides/admin/successful_state", "aproved"),
    ),
    case(
        "wf103-observed",
        "WF103",
        "/observed_transitions/1/to",
        add("/observed_transitions/-", REFUND),
    ),
    case("wf103-timer", "WF103", "/timers/0/status", rep("/timers/0/status", "snet")),
    case("wf103-initial", "WF103", "/initial_status", rep("/initial_status", "new")),
    case(
        "wf103-rejection", "WF103", "/steps/0/rejection/state", rep("/steps/0/rejection/state", "x")
    ),
    # WF104 undeclared requester types
    case(
        "wf104-step",
        "WF104",
        "/steps/0/requester_types/1",
        rep("/steps/0/requester_types/1", "admn"),
    ),
    case(
        "wf104-timer", "WF104", "/timers/0/requester_type", rep("/timers/0/requester_type", "cron")
    ),
    case(
        "wf104-override",
        "WF104",
        "/steps/3/overrides/robot",
        add("/steps/3/overrides", {"robot": {}}),
    ),
    # WF105 use cases
    case("wf105-missing", "WF105", "/steps/2/action", rep("/steps/2/action", "bok")),
    case("wf105-module", "WF105", "/use_cases", rep("/use_cases", "no_such_module_for_wfnb")),
    case("wf105-elsewhere", "WF105", "/steps/3/action", rep("/steps/3/action", "json:nope")),
    case("wf105-not-callable", "WF105", "/steps/4/action", rep("/steps/4/action", "VERSION")),
    case(
        "wf105-override",
        "WF105",
        "/steps/0/overrides/admin/validation",
        rep("/steps/0/overrides/admin/validation", "nope"),
    ),
    # WF106 orphaned statuses
    case("wf106-unused", "WF106", "/status_types/7", add("/status_types/-", "limbo")),
    case(
        "wf106-dead-end",
        "WF106",
        "/status_types/7",
        add("/status_types/-", "on_hold"),
        add("/steps/-", step("hold", "draft", "on_hold")),
    ),
    case(
        "wf106-unreachable",
        "WF106",
        "/status_types/7",
        add("/status_types/-", "archived"),
        add("/steps/-", step("purge", "archived", "cancelled")),
    ),
    case(
        "wf106-self-loop-only",
        "WF106",
        "/status_types/7",
        add("/status_types/-", "parked"),
        add("/steps/-", step("park", "draft", "parked")),
        add("/steps/-", step("poke", "parked", "parked")),
    ),
    # WF107 endless auto-advance
    case("wf107-self", "WF107", "/steps/4/auto_advance", rep("/steps/4/auto_advance", True)),
    case("wf107-override", "WF107", "/steps/2/auto_advance", add("/steps/3/overrides", SEND_BACK)),
    case(
        "wf107-override-first",
        "WF107",
        "/steps/0/overrides/admin/auto_advance",
        add("/steps/0/overrides/admin/auto_advance", True),
        add("/steps/0/overrides/admin/successful_state", "draft"),
        rem("/steps/1/requester_types/1"),
    ),
    # WF108 claims
    case("wf108-terminal", "WF108", "/steps/5/claim/status", add("/steps/-", PAY_NOW)),
    case(
        "wf108-step-status",
        "WF108",
        "/steps/2/claim/status",
        rep("/steps/2/claim/status", "sent"),
        rem("/status_types/2"),
    ),
    case(
        "wf108-undeclared",
        "WF108",
        "/steps/2/claim/status",
        rep("/steps/2/claim/status", "pending"),
        rem("/status_types/2"),
    ),
    # WF109 timers
    case("wf109-missing", "WF109", "/timers/0/step", rep("/timers/0/step", "remnd")),
    case("wf109-status", "WF109", "/timers/1/step", rep("/timers/1/step", "remind")),
    case(
        "wf109-requester",
        "WF109",
        "/timers/0/requester_type",
        rep("/timers/0/requester_type", "user"),
    ),
    # WF110 terminal statuses
    case(
        "wf110-step", "WF110", "/steps/5/status", add("/steps/-", step("reopen", "paid", "draft"))
    ),
    case(
        "wf110-observed",
        "WF110",
        "/observed_transitions/1/from",
        add("/observed_transitions/-", REOPEN),
    ),
    case("wf110-failure", "WF110", "/failure_statuses/0", rep("/failure_statuses", ["sent"])),
    # WF111 durations (found by the loader; the rest is still checked)
    case("wf111-timer", "WF111", "/timers/0/after", rep("/timers/0/after", "30 days")),
    case(
        "wf111-claim",
        "WF111",
        "/steps/2/claim/stale_after",
        rep("/steps/2/claim/stale_after", "PT0S"),
    ),
]


@pytest.mark.parametrize(("ops", "code", "where"), CASES)
def test_each_defect_reports_exactly_its_code_and_pointer(
    ops: tuple[tuple[Any, ...], ...], code: str, where: str
) -> None:
    report = validate(patched(*ops))
    assert located(report) == {(code, where)}, report
    assert not report.ok
    for problem in report.errors:
        assert problem.file == "<dict 0>"
        assert problem.workflow == patched(*ops)["name"]


def test_every_code_is_planted_at_least_twice() -> None:
    counts: dict[str, int] = {}
    for param in CASES:
        code = param.values[1]
        counts[code] = counts.get(code, 0) + 1
    assert {code for code, n in counts.items() if n >= 2} >= {f"WF1{n:02}" for n in range(1, 12)}


def test_the_sample_is_clean() -> None:
    report = validate(sample())
    assert report.ok
    assert report.problems == ()
    assert list(report.workflows) == ["invoice"]


def test_messages_name_the_offending_value() -> None:
    report = validate(
        patched(("replace", "/timers/0/step", "remnd"), ("replace", "/steps/2/action", "bok"))
    )
    messages = {p.pointer: p.message for p in report.errors}
    assert "'remnd'" in messages["/timers/0/step"]
    assert "'bok'" in messages["/steps/2/action"]
    assert USE_CASES in messages["/steps/2/action"]


def test_three_defects_are_all_reported() -> None:
    report = validate(
        patched(
            ("replace", "/steps/0/overrides/admin/successful_state", "aproved"),
            ("replace", "/steps/2/action", "bok"),
            ("replace", "/timers/0/step", "remnd"),
        )
    )
    assert located(report) == {
        ("WF103", "/steps/0/overrides/admin/successful_state"),
        ("WF105", "/steps/2/action"),
        ("WF109", "/timers/0/step"),
    }
    assert "did you mean 'approved'" in report.errors[0].message


def test_a_schema_problem_does_not_hide_the_others() -> None:
    report = validate(
        patched(
            ("remove", "/steps/1/successful_state"),
            (
                "add",
                "/observed_transitions/-",
                {"from": "sent", "to": "refunded", "source": "bank"},
            ),
            ("replace", "/steps/3/action", "json:nope"),
        )
    )
    assert located(report) == {
        ("WF101", "/steps/1/successful_state"),
        ("WF103", "/observed_transitions/1/to"),
        ("WF105", "/steps/3/action"),
    }
    assert report.workflows == {}  # a workflow with schema problems is not loaded


def test_pointers_of_a_repaired_file_count_in_the_file() -> None:
    # status_types/1 is broken and left out; the duplicate is still at /status_types/8
    doc = patched(("replace", "/status_types/1", 42), ("add", "/status_types/-", "submitted"))
    doc["status_types"].append("draft")
    assert ("WF102", "/status_types/8") in located(validate(doc))


def test_a_timer_naming_a_step_left_out_is_not_reported_again() -> None:
    report = validate(patched(("remove", "/steps/4/successful_state")))
    assert located(report) == {("WF101", "/steps/4/successful_state")}


def test_a_status_that_cannot_reach_an_end_is_a_warning() -> None:
    report = validate(
        patched(
            ("add", "/status_types/-", "ping"),
            ("add", "/status_types/-", "pong"),
            ("add", "/steps/-", step("start_ping", "draft", "ping")),
            ("add", "/steps/-", step("to_pong", "ping", "pong")),
            ("add", "/steps/-", step("to_ping", "pong", "ping")),
        )
    )
    assert report.ok
    assert located(report, "warning") == {
        ("WF106", "/status_types/7"),
        ("WF106", "/status_types/8"),
    }


def test_warnings_do_not_fail_the_report() -> None:
    report = validate(
        patched(("add", "/requester_types/-", "auditor"), ("add", "/requester_types/-", "user"))
    )
    assert report.ok
    assert located(report, "warning") == {
        ("WF104", "/requester_types/3"),
        ("WF102", "/requester_types/4"),
    }


def test_an_override_that_never_applies_is_a_warning() -> None:
    report = validate(patched(("add", "/steps/4/overrides", {"user": {"action": "notify"}})))
    assert report.ok
    assert located(report, "warning") == {("WF104", "/steps/4/overrides/user")}


def test_wf113_two_workflows_share_a_name() -> None:
    other = sample(entity={"table": "other_invoices"})
    report = validate([sample(), other])
    assert located(report) == {("WF113", "/name")}
    assert report.errors[0].file == "<dict 1>"
    assert "<dict 0>" in report.errors[0].message


def test_wf113_two_workflows_write_one_status_column() -> None:
    other = sample(name="credit_note", entity={"table": "INVOICES"})
    report = validate([sample(), other])
    assert located(report) == {("WF113", "/entity/table")}
    assert report.errors[0].workflow == "credit_note"


def test_wf113_same_table_other_status_column_is_fine() -> None:
    other = sample(name="dunning", entity={"table": "invoices", "status_column": "dunning_status"})
    assert validate([sample(), other]).ok


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('{"name": "invoice",}', "line 1 column 20"),
        ('{"name": "invoice"\n"x": 1}', "line 2 column 1"),
    ],
    ids=["trailing-comma", "missing-comma"],
)
def test_wf100_not_json(tmp_path: Path, text: str, where: str) -> None:
    path = tmp_path / "broken.json"
    path.write_text(text)
    report = validate(path)
    assert located(report) == {("WF100", "")}
    assert where in report.errors[0].message
    assert report.errors[0].file == str(path)


def test_wf100_corpus_files() -> None:
    corpus = Path(__file__).parent / "corpus"
    report = validate(corpus)
    by_file = {Path(p.file).name: p.code for p in report.errors}
    assert by_file == {"not_json.json": "WF100", "not_utf8.json": "WF100", "a_list.json": "WF101"}


def test_wf100_missing_file(tmp_path: Path) -> None:
    report = validate(tmp_path / "absent.json")
    assert located(report) == {("WF100", "")}
    assert "no such file" in report.errors[0].message

"""WF105 in detail: module imports (once per validate call), names elsewhere, odd names."""

from pathlib import Path

import pytest

from tests.unit.validation.sample import located, patched, sample
from wfnb.validation import validate


@pytest.fixture
def exploding_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path]:
    """A module that records each import attempt in a file, then raises."""
    log = tmp_path / "imports.log"
    name = f"wfnb_exploding_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(
        "from pathlib import Path\n"
        f"with Path({str(log)!r}).open('a') as fh:\n"
        "    fh.write('imported\\n')\n"
        "raise RuntimeError('boom\\nsecond line')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    return name, log


def test_a_failing_module_is_imported_once_per_validate_call(
    exploding_module: tuple[str, Path],
) -> None:
    name, log = exploding_module
    first = sample(use_cases=name)
    second = sample(name="dunning", entity={"table": "dunning"}, use_cases=name)
    report = validate([first, second])
    assert located(report) == {("WF105", "/use_cases")}
    assert [p.workflow for p in report.errors] == ["invoice", "dunning"]
    assert "RuntimeError: boom second line" in report.errors[0].message
    assert log.read_text().count("imported") == 1
    validate(first)  # a new call imports again: a fixed module is seen at once
    assert log.read_text().count("imported") == 2


def test_a_failing_module_named_elsewhere_is_reported_once(
    exploding_module: tuple[str, Path],
) -> None:
    name, _ = exploding_module
    report = validate(
        patched(
            ("replace", "/steps/2/action", f"{name}:book"),
            ("replace", "/steps/3/action", f"{name}:send"),
        )
    )
    assert located(report) == {("WF105", "/steps/2/action")}


def test_a_module_with_a_syntax_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "wfnb_broken_syntax.py").write_text("def f(:\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    report = validate(sample(use_cases="wfnb_broken_syntax"))
    assert located(report) == {("WF105", "/use_cases")}
    assert "SyntaxError" in report.errors[0].message


def test_a_module_written_in_the_test(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "wfnb_tmp_cases.py").write_text(
        "def check_lines(ctx): ...\nnotify = book = send_invoice = send_reminder = check_lines\n"
        "check_lines_admin = 3\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    report = validate(sample(use_cases="wfnb_tmp_cases"))
    assert located(report) == {("WF105", "/steps/0/overrides/admin/validation")}
    assert "is a int, not callable" in report.errors[0].message


@pytest.mark.parametrize(
    "name", ["json:loads", "json:JSONDecoder.decode", "os.path:join", "check_lines"]
)
def test_names_that_resolve(name: str) -> None:
    assert validate(patched(("replace", "/steps/2/action", name))).ok


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("json:nope", "not found in module 'json'"),
        ("json:JSONDecoder.nope", "not found in module 'json'"),
        ("no_such_module_for_wfnb:f", "No module named 'no_such_module_for_wfnb'"),
        ("json:__doc__", "is a str, not callable"),
        ("json:", "is not a Python name"),
        (":loads", "'' is not a module name"),
        ("not a name", "is not a Python name"),
        ("json:1x", "is not a Python name"),
    ],
)
def test_names_that_do_not_resolve(name: str, fragment: str) -> None:
    report = validate(patched(("replace", "/steps/2/action", name)))
    assert located(report) == {("WF105", "/steps/2/action")}
    assert fragment in report.errors[0].message
    assert repr(name) in report.errors[0].message


@pytest.mark.parametrize("module", ["-", "not a module", ".relative", "json.", "x-y"])
def test_module_names_that_cannot_be_imported(module: str) -> None:
    report = validate(sample(use_cases=module))
    assert located(report) == {("WF105", "/use_cases")}


def test_names_in_a_failed_home_module_are_not_reported_one_by_one() -> None:
    report = validate(
        patched(
            ("replace", "/use_cases", "no_such_module_for_wfnb"),
            ("add", "/steps/4/validation", "x"),
        )
    )
    assert [p.pointer for p in report.errors] == ["/use_cases"]

"""The public functions and the report: load_workflows/load_workflow, git revisions, displays."""

import json
import logging
import subprocess
from pathlib import Path

import pytest

from tests.conftest import WORKFLOWS
from tests.unit.validation.sample import located, patched, sample
from wfnb.exceptions import ConfigError, WfnbError, WfnbUsageError
from wfnb.spec import Workflow, Workflows
from wfnb.validation import ValidationReport, load_workflow, load_workflows, validate
from wfnb.validation.report import COLUMNS

THREE_DEFECTS = (
    ("replace", "/steps/0/overrides/admin/successful_state", "aproved"),
    ("replace", "/steps/2/action", "bok"),
    ("replace", "/timers/0/step", "remnd"),
)


def write(folder: Path, name: str, data: object) -> Path:
    path = folder / name
    path.write_text(json.dumps(data, indent=2))
    return path


def test_load_workflows_raises_config_error_with_every_problem() -> None:
    with pytest.raises(ConfigError) as caught:
        load_workflows(patched(*THREE_DEFECTS))
    error = caught.value
    assert isinstance(error, ValueError)
    assert isinstance(error, WfnbError)
    assert {p.code for p in error.problems} == {"WF103", "WF105", "WF109"}
    assert error.code == error.problems[0].code
    assert "and 2 more problems" in str(error)


def test_load_workflows_returns_the_workflows_and_logs_warnings(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write(tmp_path, "invoice.json", patched(("add", "/requester_types/-", "auditor")))
    write(tmp_path, "dunning.json", sample(name="dunning", entity={"table": "dunning"}))
    with caplog.at_level(logging.WARNING, logger="wfnb.validation"):
        workflows = load_workflows([tmp_path])
    assert isinstance(workflows, Workflows)
    assert sorted(workflows) == ["dunning", "invoice"]
    assert workflows["invoice"].source_file == str(tmp_path / "invoice.json")
    assert "WF104" in caplog.text
    assert "'auditor'" in caplog.text


def test_load_workflow_one_file(tmp_path: Path) -> None:
    wf = load_workflow(write(tmp_path, "invoice.json", sample()))
    assert isinstance(wf, Workflow)
    assert wf.name == "invoice"


def test_load_workflow_raises_on_errors_and_on_several_workflows(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_workflow(patched(("replace", "/timers/0/step", "remnd")))
    write(tmp_path, "a.json", sample())
    write(tmp_path, "b.json", sample(name="dunning", entity={"table": "dunning"}))
    with pytest.raises(WfnbUsageError, match="holds 2"):
        load_workflow(tmp_path)


def test_the_same_file_given_twice_is_one_workflow(tmp_path: Path) -> None:
    path = write(tmp_path, "invoice.json", sample())
    report = validate([tmp_path, path])
    assert report.ok, report
    assert list(report.workflows) == ["invoice"]


def test_model_dump_round_trip_validates_the_same() -> None:
    wf = load_workflow(sample())
    dumped = wf.model_dump(mode="json", by_alias=True)
    again = load_workflow(dumped)
    assert again == wf
    assert again.config_hash == wf.config_hash
    assert validate(wf).ok
    assert validate(json.loads(json.dumps(dumped))).ok


def test_a_model_with_defects_is_checked_like_a_file() -> None:
    wf = Workflow.model_validate(patched(("replace", "/timers/0/step", "remnd")))
    report = validate(wf)
    assert located(report) == {("WF109", "/timers/0/step")}
    assert report.errors[0].file == "<workflow invoice>"


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=wfnb", "-c", "user.email=wfnb@example.invalid", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


def test_rev_reads_the_files_as_they_were(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q")
    path = write(tmp_path, "invoice.json", sample(description="first version"))
    _git(tmp_path, "add", "invoice.json")
    _git(tmp_path, "commit", "-q", "-m", "v1")
    first = _git(tmp_path, "rev-parse", "HEAD")
    write(tmp_path, "invoice.json", patched(("replace", "/timers/0/after", "P14D")))
    _git(tmp_path, "commit", "-q", "-am", "v2")
    second = _git(tmp_path, "rev-parse", "HEAD")

    old = load_workflows(path, rev="HEAD~1")["invoice"]
    new = load_workflows(path)["invoice"]
    folder_old = load_workflows(tmp_path, rev=first)["invoice"]

    assert old.description == "first version"
    assert old.timers[0].after == "P30D"
    assert new.timers[0].after == "P14D"
    assert old.config_rev == first
    assert new.config_rev == second
    assert old.config_hash != new.config_hash
    assert folder_old.config_hash == old.config_hash


def test_rev_that_does_not_exist_is_wf100(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q")
    path = write(tmp_path, "invoice.json", sample())
    report = validate(path, rev="no-such-rev")
    assert located(report) == {("WF100", "")}
    assert "no-such-rev" in report.errors[0].message


def test_rev_with_a_broken_old_version(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q")
    path = write(tmp_path, "invoice.json", patched(("replace", "/timers/0/step", "remnd")))
    _git(tmp_path, "add", "invoice.json")
    _git(tmp_path, "commit", "-q", "-m", "broken")
    write(tmp_path, "invoice.json", sample())
    assert validate(path).ok
    assert located(validate(path, rev="HEAD")) == {("WF109", "/timers/0/step")}


def test_report_as_frame_and_json() -> None:
    report = validate(patched(*THREE_DEFECTS))
    frame = report.to_frame()
    assert list(frame.columns) == list(COLUMNS)
    assert len(frame) == 3
    assert set(frame["code"]) == {"WF103", "WF105", "WF109"}
    assert set(frame["workflow"]) == {"invoice"}
    assert report.to_json()[0] == report.problems[0].as_dict()
    empty = validate(sample()).to_frame()
    assert list(empty.columns) == list(COLUMNS)
    assert empty.empty


def test_report_displays() -> None:
    clean = validate(sample())
    assert "no problems" in clean._repr_html_()
    assert "1a7f37" in clean._repr_html_()  # green
    assert repr(clean) == "<ValidationReport ok: 1 workflow, 0 errors, 0 warnings>"
    broken = validate(patched(*THREE_DEFECTS, ("add", "/requester_types/-", "auditor")))
    html = broken._repr_html_()
    assert html.count("<tr>") == 1 + 4  # header + one row per problem
    assert "/steps/0/overrides/admin/successful_state" in html
    assert repr(broken) == "<ValidationReport failed: 1 workflow, 3 errors, 1 warning>"
    assert str(broken).splitlines()[0].startswith("<dict 0>:/")
    assert len(broken.errors) == 3
    assert len(broken.warnings) == 1


def test_html_escapes_values() -> None:
    report = validate(patched(("replace", "/steps/2/action", "<b>x</b>")))
    assert "<b>x" not in report._repr_html_()
    assert "&lt;b&gt;" in report._repr_html_()


def test_report_is_a_frozen_value() -> None:
    report = ValidationReport()
    assert report.ok
    with pytest.raises(AttributeError):
        report.problems = ()  # type: ignore[misc]


def test_the_example_workflows_validate_clean() -> None:
    report = validate(WORKFLOWS)
    assert len(report.workflows) >= 1
    assert report.ok, str(report)


@pytest.mark.parametrize("sources", [42, [sample(), 42], None])
def test_sources_of_the_wrong_kind_are_a_usage_error(sources: object) -> None:
    with pytest.raises(WfnbUsageError, match="takes paths, dicts or Workflows"):
        validate(sources)  # type: ignore[arg-type]

"""The optional ``system_requester_types`` field (issue 16.5, ADR 0103): schema and checks."""

import json
from importlib.resources import files

import jsonschema

from tests.unit.validation.sample import located, patched, sample
from wfnb.spec import Workflow
from wfnb.validation import validate


def test_a_declared_system_requester_type_is_valid_and_loaded() -> None:
    report = validate(patched(("add", "/system_requester_types", ["system"])))
    assert report.ok
    assert report.problems == ()
    (wf,) = report.workflows.values()
    assert wf.system_requester_types == ("system",)


def test_one_requester_types_lacks_is_a_wf104_error_at_its_pointer() -> None:
    report = validate(patched(("add", "/system_requester_types", ["system", "cron"])))
    assert not report.ok
    assert located(report, "error") == {("WF104", "/system_requester_types/1")}
    (problem,) = [p for p in report.problems if p.severity == "error"]
    assert "'cron' is not in requester_types" in problem.message


def test_one_no_step_or_timer_runs_as_is_a_warning() -> None:
    data = patched(("add", "/requester_types/-", "auditor"))
    data["system_requester_types"] = ["auditor"]
    report = validate(data)
    assert report.ok
    assert ("WF104", "/system_requester_types/0") in located(report, "warning")
    assert any("declaring it refuses nothing" in p.message for p in report.problems)


def test_one_listed_twice_is_a_wf102_warning() -> None:
    report = validate(patched(("add", "/system_requester_types", ["system", "system"])))
    assert report.ok
    assert located(report, "warning") == {("WF102", "/system_requester_types/1")}


def test_a_malformed_declaration_is_wf101_and_the_rest_is_still_checked() -> None:
    report = validate(
        patched(
            ("add", "/system_requester_types", "system"),
            ("replace", "/initial_status", "new"),
        )
    )
    assert located(report, "error") == {
        ("WF101", "/system_requester_types"),
        ("WF103", "/initial_status"),
    }


def test_leaving_it_out_or_empty_keeps_the_config_hash() -> None:
    """An optional field with its default changes no config version (history stays valid)."""
    plain = Workflow.model_validate(sample())
    empty = Workflow.model_validate({**sample(), "system_requester_types": []})
    declared = Workflow.model_validate({**sample(), "system_requester_types": ["system"]})
    assert plain.config_hash == empty.config_hash
    assert declared.config_hash != plain.config_hash


def test_the_shipped_json_schema_knows_the_field() -> None:
    shipped = json.loads(files("wfnb").joinpath("schema/workflow.schema.json").read_text())
    jsonschema.validate({**sample(), "system_requester_types": ["system"]}, shipped)
    try:
        jsonschema.validate({**sample(), "system_requester_types": [""]}, shipped)
    except jsonschema.ValidationError:
        pass
    else:  # pragma: no cover - the assertion
        raise AssertionError("an empty requester type passed the schema")

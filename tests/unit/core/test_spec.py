"""The format models: structure, round-trips, hashes, durations, overrides, the schema."""

import json
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError

from wfnb.loader import parse_source, read_sources
from wfnb.spec import Workflow, add_duration, parse_duration, schema


def minimal(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "invoice",
        "owning_module": "billing",
        "entity": {"table": "invoices"},
        "use_cases": "json",
        "requester_types": ["user", "admin"],
        "status_types": ["draft", "approved", "paid"],
        "initial_status": "draft",
        "terminal_statuses": ["paid"],
        "steps": [
            {
                "key": "approve",
                "status": "draft",
                "successful_state": "approved",
                "overrides": {"admin": {"successful_state": "paid", "auto_advance": True}},
            },
            {"key": "pay", "status": "approved", "successful_state": "paid"},
        ],
        "timers": [
            {
                "key": "t",
                "status": "approved",
                "after": "P1M",
                "step": "pay",
                "requester_type": "admin",
            }
        ],
    }
    data.update(changes)
    return data


def test_model_dump_round_trips_to_the_same_json() -> None:
    data = minimal(observed_transitions=[{"from": "approved", "to": "paid", "source": "bank"}])
    wf = Workflow.model_validate(data)
    assert wf.model_dump(mode="json", by_alias=True, exclude_defaults=True) == data
    assert Workflow.model_validate(wf.model_dump(by_alias=True)) == wf


def test_models_are_frozen_and_forbid_unknown_fields() -> None:
    wf = Workflow.model_validate(minimal())
    with pytest.raises(ValidationError):
        wf.name = "other"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="extra"):
        Workflow.model_validate(minimal(colour="red"))


def test_config_hash_ignores_spelled_out_defaults_and_key_order() -> None:
    a = Workflow.model_validate(minimal())
    spelled = minimal(entity={"table": "invoices", "id_column": "id", "status_column": "status"})
    b = Workflow.model_validate(dict(reversed(list(spelled.items()))))
    assert a.config_hash == b.config_hash
    c = Workflow.model_validate(minimal(description="changed"))
    assert c.config_hash != a.config_hash
    assert len(a.config_hash) == 64


def test_for_requester_applies_the_override_only_for_that_requester() -> None:
    step = Workflow.model_validate(minimal()).steps[0]
    admin = step.for_requester("admin")
    assert (admin.successful_state, admin.auto_advance, admin.overrides) == ("paid", True, {})
    user = step.for_requester("user")
    assert (user.successful_state, user.auto_advance) == ("approved", False)


def test_steps_for_gives_each_requester_its_view_once() -> None:
    wf = Workflow.model_validate(minimal())
    (admin,) = wf.steps_for("draft", "admin")
    assert (admin.key, admin.successful_state, admin.overrides) == ("approve", "paid", {})
    assert wf.steps_for("draft", "admin")[0] is admin  # worked out once, then reused
    assert wf.steps_for("draft", "user")[0].successful_state == "approved"
    assert wf.steps_for("paid", "user") == ()
    # statuses without steps and undeclared names are answered, never remembered
    assert wf.steps_for("draft", "robot")[0].successful_state == "approved"
    assert wf.steps_for("nowhere", "admin") == ()
    assert set(wf._views) == {("draft", "admin"), ("draft", "user")}


def test_timers_at_indexes_the_timers_by_status() -> None:
    wf = Workflow.model_validate(minimal())
    assert [t.key for t in wf.timers_at("approved")] == ["t"]
    assert wf.timers_at("draft") == ()


def test_durations_are_parsed_by_isodate_and_calendar_aware() -> None:
    assert parse_duration("PT10M") == timedelta(minutes=10)
    jan31 = datetime(2026, 1, 31, tzinfo=UTC)
    assert add_duration(jan31, "P1M") == datetime(2026, 2, 28, tzinfo=UTC)


@pytest.mark.parametrize("bad", ["10 minutes", "P", "PT-5M", "P0D", ""])
def test_a_malformed_duration_is_wf111_at_its_pointer(bad: str) -> None:
    data = minimal()
    data["timers"][0]["after"] = bad
    wf, _, problems = parse_source(read_sources(data)[0])
    assert wf is None
    assert [(p.code, p.pointer) for p in problems] == [("WF111", "/timers/0/after")]


def test_the_shipped_schema_is_the_generated_one_and_accepts_valid_files() -> None:
    shipped = json.loads(files("wfnb").joinpath("schema/workflow.schema.json").read_text())
    assert shipped == schema()
    jsonschema.Draft202012Validator.check_schema(shipped)
    jsonschema.validate(minimal(), shipped)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(minimal(colour="red"), shipped)


def test_loading_a_folder_reads_every_json_file(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps(minimal()))
    (tmp_path / "b.json").write_text(json.dumps(minimal(name="other")))
    (tmp_path / "notes.txt").write_text("ignored")
    parsed = [parse_source(s) for s in read_sources(tmp_path)]
    assert sorted(wf.name for wf, _, _ in parsed if wf) == ["invoice", "other"]
    assert all(wf and wf.source_file and wf.source_file.endswith(".json") for wf, _, _ in parsed)


def test_bad_json_is_wf100_with_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "name": "x",\n  oops\n}')
    _, _, problems = parse_source(read_sources(path)[0])
    assert [p.code for p in problems] == ["WF100"]
    assert "line 3 column 3" in problems[0].message

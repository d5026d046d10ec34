"""Limits of a workflow document: names the history can store whole, files that nest
sanely, paths that are regular files. ``validate`` reports each as a problem, never raises."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.unit.validation.sample import sample
from wfnb.exceptions import ConfigError
from wfnb.loader import MAX_FILE_DEPTH
from wfnb.store.tables import HISTORY
from wfnb.validation import load_workflows, validate

NAME = HISTORY.c.to_status.type.length  # every name column is as long (String(128))


def _renamed(where: str, length: int) -> tuple[dict[str, Any], str]:
    """The sample with one name made ``length`` characters long; its JSON pointer."""
    data = sample()
    long = "n" * length
    if where == "status":
        data["status_types"].append(long)
        data["steps"].append({"key": "park", "status": "sent", "successful_state": long})
        data["terminal_statuses"].append(long)
        return data, "/status_types/7"
    if where == "step":
        data["steps"][1]["key"] = long
        return data, "/steps/1/key"
    if where == "requester":
        data["requester_types"].append(long)
        data["steps"][1]["requester_types"].append(long)
        return data, "/requester_types/3"
    if where == "source":
        data["observed_transitions"][0]["source"] = long
        return data, "/observed_transitions/0/source"
    if where == "workflow":
        data["name"] = long
        return data, "/name"
    data["entity"]["table"] = long
    return data, "/entity/table"


KINDS = ["status", "step", "requester", "source", "workflow", "table"]


@pytest.mark.parametrize(
    "column",
    [
        "workflow",
        "entity_table",
        "to_status",
        "from_status",
        "requester_type",
        "step_key",
        "source",
        "tenant_id",
        "correlation_id",
    ],
)
def test_every_name_column_is_as_wide_as_the_validator_checks(column: str) -> None:
    from wfnb.spec import NAME_LENGTH
    from wfnb.validation.lengths import column_length

    assert HISTORY.c[column].type.length == NAME_LENGTH == column_length(column)


@pytest.mark.parametrize("where", KINDS)
def test_a_name_longer_than_its_history_column_is_wf101(where: str) -> None:
    assert isinstance(NAME, int)
    data, pointer = _renamed(where, NAME + 1)
    report = validate(data)
    found = [(p.code, p.pointer) for p in report.errors]
    assert found == [("WF101", pointer)], report.problems
    assert "characters long" in report.errors[0].message


@pytest.mark.parametrize("where", KINDS)
def test_a_name_as_long_as_its_history_column_is_accepted(where: str) -> None:
    assert isinstance(NAME, int)
    data, _ = _renamed(where, NAME)
    assert validate(data).errors == ()


def _nested(levels: int) -> str:
    return '{"a":' * (levels - 1) + "{}" + "}" * (levels - 1)


@pytest.mark.parametrize("text", ["[" * 10_000 + "]" * 10_000, _nested(10_000), _nested(65)])
def test_a_deeply_nested_file_is_wf100_and_validate_does_not_raise(
    tmp_path: Path, text: str
) -> None:
    path = tmp_path / "deep.json"
    path.write_text(text)
    report = validate(path)
    assert [(p.code, p.pointer) for p in report.problems] == [("WF100", "")]
    assert str(MAX_FILE_DEPTH) in report.problems[0].message
    with pytest.raises(ConfigError) as caught:
        load_workflows(path)
    assert caught.value.code == "WF100"


def test_a_deep_or_self_referencing_dict_is_wf100() -> None:
    loop: dict[str, Any] = sample()
    loop["entity"]["self"] = loop
    deep: dict[str, Any] = {}
    for _ in range(10_000):
        deep = {"a": deep}
    for data in (loop, {**sample(), "description": deep}):
        assert [p.code for p in validate(data).problems] == ["WF100"]


def test_a_file_nested_up_to_the_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "fine.json"
    path.write_text(_nested(MAX_FILE_DEPTH))
    codes = {p.code for p in validate(path).problems}
    assert "WF100" not in codes  # read; it is just not a workflow (WF101)


def test_a_fifo_named_json_is_refused_without_reading_it(tmp_path: Path) -> None:
    fifo = tmp_path / "x.json"
    os.mkfifo(fifo)
    reports: list[Any] = []
    worker = threading.Thread(target=lambda: reports.append(validate(fifo)), daemon=True)
    worker.start()
    worker.join(timeout=20)
    assert reports, "validate() blocked on a FIFO"
    (problem,) = reports[0].problems
    assert (problem.code, problem.message) == ("WF100", "cannot read workflow: not a regular file")


def test_checking_a_missing_sqlite_database_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "nosuch.db"
    report = validate(sample(), f"sqlite:///{missing}")
    assert [p.code for p in report.errors] == ["WF112"]
    assert "no such database file" in report.errors[0].message
    assert not missing.exists()

"""`wfnb demo` and `wfnb simulate` as main(argv): they fill a database, bad input is one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.unit.simulation.test_simulate import TICKETS
from wfnb import testing
from wfnb.cli import main


def count(url: str, sql: str) -> int:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        value = int(conn.execute(sa.text(sql)).scalar_one())
    engine.dispose()
    return value


def test_demo_builds_a_small_dataset_and_refuses_to_overwrite(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["demo", "--db", sqlite_url, "--users", "30", "--months", "2", "--quiet"]
    assert main(argv) == 0
    assert "DemoReport" in capsys.readouterr().out
    rows = count(sqlite_url, "SELECT count(*) FROM workflow_history")
    assert rows > 100
    assert main(argv) == 2  # a database that already has a history is left alone
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("WF")
    assert count(sqlite_url, "SELECT count(*) FROM workflow_history") == rows


def test_simulate_fills_a_database_from_a_scenario_file(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "ticket.json").write_text(json.dumps(testing.DEFAULT_WORKFLOW))
    (tmp_path / "scenario.json").write_text(json.dumps(TICKETS))
    scenario = str(tmp_path / "scenario.json")
    argv = ["simulate", str(tmp_path / "ticket.json"), "--db", sqlite_url, "--quiet",
            "--scenario", scenario, "--create-tables", "--days", "40"]  # fmt: skip
    assert main(argv) == 0
    assert count(sqlite_url, "SELECT count(*) FROM workflow_history WHERE kind = 'timer'") == 3
    assert main([*argv[:-2], "--days", "soon"]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith("WF400")


def test_simulate_with_a_missing_scenario_is_one_line(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "ticket.json").write_text(json.dumps(testing.DEFAULT_WORKFLOW))
    argv = ["simulate", str(tmp_path / "ticket.json"), "--db", sqlite_url, "--quiet",
            "--scenario", str(tmp_path / "nope.json"), "--create-tables"]  # fmt: skip
    assert main(argv) in (1, 2)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "Traceback" not in err[0]
    assert err[0].startswith("WF")

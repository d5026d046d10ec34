"""Mistakes the command line used to answer with a plausible result, now refused or said.

A misspelt ``--step``/``--status`` filter said "0 rows"; a diff of two different workflows
listed 62 changes; conformance of an empty history printed "fitness 1.0000"; an empty
workflow folder was "unknown workflow (loaded: )"; a database without wfnb's history failed
later with a raw "no such table".
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import WORKFLOWS
from tests.unit.core import test_cli_bounds_and_dates
from wfnb.cli import main
from wfnb.engine import Engine
from wfnb.validation import load_workflows

hourly_db = test_cli_bounds_and_dates.hourly_db  # the fixture: 24 rows of workflow "ticket"
W = str(WORKFLOWS)


@pytest.fixture
def installed_db(db_url: str) -> str:
    """A wfnb database (the engine's tables) without a single history row."""
    engine = Engine(load_workflows([W]), db_url)
    engine.install()
    engine.dispose()
    return db_url


@pytest.mark.parametrize(
    ("argv", "hint"),
    [
        (["history", "--step", "aprove"], "did you mean 'approve'"),
        (["history", "--status", "pai"], "did you mean 'paid'"),
        (["history", "--workflow", "invoice", "--step", "aprove"], "did you mean 'approve'"),
        (["failures", "--step", "aprove"], "did you mean 'approve'"),
        (["history", "--kind", "initated"], "did you mean 'initiated'"),
    ],
)
def test_a_misspelt_filter_is_wf400_with_a_suggestion(
    installed_db: str, argv: list[str], hint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, "--db", installed_db, W]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("WF400:"), err
    assert hint in err, err


def test_an_unknown_user_is_still_zero_rows(
    installed_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", "--db", installed_db, W, "--user", "nobody", "--tenant", "x"]) == 0
    assert capsys.readouterr().out.strip() == "0 rows"


def test_a_workflow_filter_against_an_empty_folder_is_wf100(
    installed_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", "--db", installed_db, "--workflow", "invoice", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "WF100" in err
    assert "no workflow file" in err
    assert "WF200" not in err


def test_diff_of_two_different_workflows_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", f"{W}/invoice.json", f"{W}/sharing_group.json"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "WF400: these are two different workflows: invoice and sharing_group "
        "(diff compares two versions of one workflow)"
    )


def test_conformance_of_no_history_says_fitness_is_undefined(
    installed_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["conformance", W, "--db", installed_db]) == 0
    out = capsys.readouterr().out
    assert "no history rows to judge (fitness is undefined)" in out
    assert "fitness 1.0000" not in out
    assert "fitness 0" not in out


def test_conformance_now_before_the_first_row_warns_on_stderr(
    hourly_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["conformance", W, "--db", hourly_db, "--now", "1900-01-01"])
    err = capsys.readouterr().err
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, err
    assert "before the first history row" in warnings[0]
    main(["conformance", W, "--db", hourly_db, "--now", "2999-01-01"])
    assert "before the first history row" not in capsys.readouterr().err


def test_history_of_a_database_without_wfnb_tables_is_wf300(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    assert main(["history", "--db", f"sqlite:///{empty}"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("WF300: not a wfnb database: no workflow_history table"), err


def test_validate_prints_one_line_per_problem_and_one_summary_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (WORKFLOWS / "invoice.json").read_text().replace('"status_types"', '"status_typos"', 1)
    (tmp_path / "broken.json").write_text(text)
    assert main(["validate", str(tmp_path / "broken.json"), "--format", "json"]) == 1
    problems = json.loads(capsys.readouterr().out)["problems"]
    assert main(["validate", str(tmp_path / "broken.json")]) == 1
    captured = capsys.readouterr()
    assert len(captured.out.strip().splitlines()) == len(problems)
    assert len(captured.err.strip().splitlines()) == 1  # the summary, on stderr

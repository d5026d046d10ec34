"""Numbers too big for Python in a workflow file are problems, never exceptions: a duration
past year 9999 is WF111, a number of more digits than Python reads is WF100; the CLI says
so in one line (never WF000)."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from wfnb import testing
from wfnb.validation import validate


def _huge_duration() -> str:
    wf = copy.deepcopy(testing.DEFAULT_WORKFLOW)
    wf["timers"][0]["after"] = "P99999999999999999999D"
    return json.dumps(wf)


def _too_long_duration() -> str:
    wf = copy.deepcopy(testing.DEFAULT_WORKFLOW)
    wf["timers"][0]["after"] = "P999999999D"  # parses, but no moment can take it
    return json.dumps(wf)


def _huge_number() -> str:
    return json.dumps(testing.DEFAULT_WORKFLOW).replace('"P7D"', "1" + "0" * 5000, 1)


CASES = {
    "duration-overflows": (_huge_duration, "WF111"),
    "duration-past-9999": (_too_long_duration, "WF111"),
    "5001-digit-number": (_huge_number, "WF100"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_an_overflowing_number_in_a_workflow_is_a_problem_not_an_exception(
    tmp_path: Path, case: str
) -> None:
    text, code = CASES[case]
    path = tmp_path / "wf.json"
    path.write_text(text())
    assert [p.code for p in validate([str(path)]).problems] == [code]
    cli = subprocess.run(
        [sys.executable, "-m", "wfnb", "validate", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert cli.returncode == 1
    assert code in cli.stdout + cli.stderr
    assert "WF000" not in cli.stdout + cli.stderr
    assert "Traceback" not in cli.stderr

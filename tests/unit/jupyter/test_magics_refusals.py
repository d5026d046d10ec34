"""Magic mistakes answered as the CLI answers them: one coded line, the same code.

``%wfnb load /nonexistent`` and ``%wfnb diff nosuch1 nosuch2`` are WF100 (as ``wfnb``), a
diff of two different workflows is refused, an unknown requester of ``explain`` is WF400
with a suggestion (as ``graph``), a misspelt ``--step``/``--status`` is WF400 rather than an
empty table, a database without wfnb's history says so at connect and refuses history
reads with WF300, and the widgets are reachable from ``wfnb.jupyter`` without making
``import wfnb.jupyter`` heavy.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import WORKFLOWS
from tests.unit.jupyter import test_magics_data
from tests.unit.jupyter.conftest import Shell
from tests.unit.jupyter.test_magics_core import assert_one_line_error

filled = test_magics_data.filled  # the fixture: two users, one rejected
W = str(WORKFLOWS)


def test_load_of_a_missing_path_is_wf100_as_on_the_command_line(ip: Shell) -> None:
    assert_one_line_error(ip.run("%wfnb load /nonexistent").output, "WF100")


def test_diff_of_missing_files_is_wf100(ip: Shell) -> None:
    assert_one_line_error(ip.run("%wfnb diff nosuch1 nosuch2").output, "WF100")


def test_diff_of_two_different_workflows_is_refused(ip: Shell) -> None:
    ran = ip.run(f"%wfnb diff {W}/invoice.json {W}/sharing_group.json")
    assert not ran.success
    assert_one_line_error(ran.output, "WF400")
    assert "these are two different workflows: invoice and sharing_group" in ran.output


def test_explain_with_an_unknown_requester_is_wf400_with_a_suggestion(
    ip: Shell, draft_invoice: str
) -> None:
    ran = ip.run(f"%wfnb explain invoice {draft_invoice} martian")
    assert not ran.success
    assert_one_line_error(ran.output, "WF400")
    assert "martian" in ran.output
    near = ip.run(f"%wfnb explain invoice {draft_invoice} sytem")
    assert "did you mean 'system'" in near.output, near.output


@pytest.mark.parametrize(
    ("cell", "hint"),
    [
        ("%wfnb history --step verify_emial", "did you mean 'verify_email'"),
        ("%wfnb history --status pending_document", "did you mean 'pending_documents'"),
        ("%wfnb failures --workflow user_registration --step verify_emial", "verify_email"),
    ],
)
def test_a_misspelt_filter_is_wf400_not_an_empty_table(
    ip: Shell, filled: dict[str, str], cell: str, hint: str
) -> None:
    ran = ip.run(cell)
    assert not ran.success
    assert_one_line_error(ran.output, "WF400")
    assert hint in ran.output


def test_an_unknown_user_is_still_an_empty_table(ip: Shell, filled: dict[str, str]) -> None:
    ran = ip.run("none = %wfnb history --user nobody")
    assert ran.success, ran.output
    assert ip.ns["none"].empty


def test_a_database_without_history_says_so_at_connect_and_refuses_reads(
    ip: Shell, tmp_path: Path
) -> None:
    empty = tmp_path / "zero.db"
    empty.write_bytes(b"")
    ran = ip.run(f"%wfnb connect sqlite:///{empty}")
    assert ran.success, ran.output
    assert "empty database: no history yet" in str(ran.result)
    assert ip.run(f"%wfnb load {W}").success
    for cell in ("%wfnb history", "%wfnb failures", "%wfnb conformance"):
        out = ip.run(cell).output
        assert_one_line_error(out, "WF300")
        assert "not a wfnb database: no workflow_history table" in out


def test_the_widgets_are_exported_lazily_from_wfnb_jupyter() -> None:
    code = (
        "import sys, wfnb.jupyter as j\n"
        "assert 'ipywidgets' not in sys.modules, 'import wfnb.jupyter pulled in ipywidgets'\n"
        "from wfnb.jupyter.widgets import EntityTimeline, FailureBrowser, StepRunner\n"
        "from wfnb.jupyter.explorer import WorkflowExplorer\n"
        "assert j.FailureBrowser is FailureBrowser and j.StepRunner is StepRunner\n"
        "assert j.EntityTimeline is EntityTimeline and j.WorkflowExplorer is WorkflowExplorer\n"
        "assert {'FailureBrowser', 'WorkflowExplorer'} <= set(j.__all__)\n"
        "try:\n    j.NoSuchWidget\nexcept AttributeError:\n    pass\n"
        "else:\n    raise SystemExit('no AttributeError')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr

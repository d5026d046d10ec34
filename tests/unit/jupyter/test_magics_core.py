"""%wfnb connect / load / validate / help in a real IPython shell: results and one-line errors."""

from pathlib import Path

import pytest

from tests.conftest import WORKFLOWS
from tests.unit.jupyter.conftest import Shell


def assert_one_line_error(output: str, code: str) -> None:
    assert "Traceback" not in output
    lines = [line for line in output.strip().splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert code in lines[0], output


def test_load_returns_the_workflows_and_can_be_assigned(ip: Shell) -> None:
    ran = ip.run(f"wfs = %wfnb load {WORKFLOWS}")
    assert ran.success, ran.output
    assert "invoice" in ip.ns["wfs"]


def test_variable_expansion_from_the_user_namespace(ip: Shell) -> None:
    ip.ns["folder"] = str(WORKFLOWS)
    ran = ip.run("rep = %wfnb validate {folder}")
    assert ran.success, ran.output
    assert ip.ns["rep"].ok


def test_validate_uses_the_loaded_paths_and_a_connected_database(
    ip: Shell, sqlite_url: str
) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(sqlite_url)  # an existing, empty database
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE unrelated (id INTEGER)"))
    engine.dispose()
    assert ip.run(f"%wfnb load {WORKFLOWS}").success
    assert ip.run(f"%wfnb connect {sqlite_url}").success
    ran = ip.run("rep = %wfnb validate --db")
    assert ran.success, ran.output
    assert {p.code for p in ip.ns["rep"].problems} == {"WF112"}  # the empty db has no tables


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("%wfnb frobnicate", "WF400"),
        ("%wfnb validate --bogus", "WF400"),
        ("%wfnb load", "WF400"),
        ("%wfnb load /no/such/folder", "WF100"),
        ("%wfnb validate", "WF400"),
        ("%wfnb connect notaurl://", "WF400"),
        ("%wfnb validate --db workflows", "WF400"),
        ('%wfnb validate "unclosed', "WF400"),
        ("%wfnb load ''", "WF400"),
        ("%wfnb connect ''", "WF400"),
    ],
)
def test_bad_input_shows_one_line_with_its_code(ip: Shell, cell: str, code: str) -> None:
    ran = ip.run(cell)
    assert not ran.success
    assert_one_line_error(ran.output, code)


def test_a_bad_config_shows_one_line_with_the_first_problem(ip: Shell, tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text('{"name": 1}')
    ran = ip.run(f"%wfnb load {tmp_path}")
    assert not ran.success
    assert_one_line_error(ran.output, "WF101")


def test_help_lists_the_commands(ip: Shell) -> None:
    ran = ip.run("%wfnb help")
    assert ran.success
    assert "connect" in str(ran.result)
    assert "validate" in str(ran.result)


def test_config_options_are_traitlets(ip: Shell) -> None:
    assert ip.run("%config WfnbMagics.row_limit = 5").success
    magics = ip.shell.magics_manager.registry["WfnbMagics"]
    assert magics.row_limit == 5
    ran = ip.run("%config WfnbMagics.diagram_direction = 'sideways'")
    assert not ran.success or "Traceback" not in ran.output


def test_usecase_cell_magic_registers_the_function(ip: Shell) -> None:
    ran = ip.run("%%wfnb_usecase\ndef check(ctx):\n    return None\n")
    assert ran.success, ran.output
    magics = ip.shell.magics_manager.registry["WfnbMagics"]
    assert magics.session.use_cases["check"] is ip.ns["check"]
    assert "<function" not in ran.output  # words, not a Python repr
    assert "use case 'check' defined" in ran.output
    bad = ip.run("%%wfnb_usecase\nx = 1\n")
    assert_one_line_error(bad.output, "WF400")


def test_explain_reads_the_connected_database(ip: Shell, draft_invoice: str) -> None:
    invoice = draft_invoice
    ran = ip.run(f"x = %wfnb explain invoice {invoice} admin")
    assert ran.success, ran.output
    text = str(ip.ns["x"])
    assert "is at 'draft'" in text
    assert "approve" in text
    bad = ip.run("%wfnb explain invoice no-such-invoice admin")
    assert_one_line_error(bad.output, "WF201")
    unknown = ip.run("%wfnb explain nope 1 admin")
    assert_one_line_error(unknown.output, "WF200")


def test_graph_paths_and_diff_return_real_objects(ip: Shell, tmp_path: Path) -> None:
    import json

    from wfnb.analysis import Diagram, PathReport, WorkflowDiff

    assert ip.run(f"%wfnb load {WORKFLOWS}").success
    assert ip.run("d = %wfnb graph invoice --focus sent --depth 1").success
    assert isinstance(ip.ns["d"], Diagram)
    assert "<svg" in ip.ns["d"]._repr_svg_()
    assert ip.run("p = %wfnb paths invoice --requester admin").success
    assert isinstance(ip.ns["p"], PathReport)
    old = json.loads((WORKFLOWS / "invoice.json").read_text())
    new = json.loads((WORKFLOWS / "invoice.json").read_text())
    new["steps"] = [s for s in new["steps"] if s["key"] != "cancel_approved"]
    (tmp_path / "old.json").write_text(json.dumps(old))
    (tmp_path / "new.json").write_text(json.dumps(new))
    ran = ip.run(f"c = %wfnb diff {tmp_path / 'old.json'} {tmp_path / 'new.json'}")
    assert ran.success, ran.output
    assert isinstance(ip.ns["c"], WorkflowDiff)
    assert any("cancel_approved" in str(ch) for ch in ip.ns["c"].changes)


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("%wfnb graph nope", "WF200"),
        ("%wfnb graph invoice --focus nowhere", "WF400"),
        ("%wfnb graph invoice --depth x", "WF400"),
        ("%wfnb paths invoice --requester robot", "WF400"),
        ("%wfnb diff only_one.json", "WF400"),
        ("%wfnb diff a.json --rev HEAD", "WF400"),
    ],
)
def test_analysis_magics_reject_bad_input_in_one_line(ip: Shell, cell: str, code: str) -> None:
    assert ip.run(f"%wfnb load {WORKFLOWS}").success
    ran = ip.run(cell)
    assert not ran.success
    assert_one_line_error(ran.output, code)


def test_connect_to_a_missing_sqlite_file_is_wf300_and_creates_nothing(
    ip: Shell, tmp_path: Path
) -> None:
    target = tmp_path / "nosuch.db"
    ran = ip.run(f"%wfnb connect sqlite:///{target}")
    assert not ran.success
    assert_one_line_error(ran.output, "WF300")
    assert "no such database" in ran.output
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []
    magics = ip.shell.magics_manager.registry["WfnbMagics"]
    assert magics.session.db_url is None  # still not connected


def test_connect_to_a_file_that_is_not_a_database_is_wf300(ip: Shell, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    ran = ip.run(f"%wfnb connect sqlite:///{tmp_path / 'notes.txt'}")
    assert_one_line_error(ran.output, "WF300")


def test_a_configured_database_url_is_checked_too(ip: Shell, tmp_path: Path) -> None:
    assert ip.run(f"%config WfnbMagics.database_url = 'sqlite:///{tmp_path}/nosuch.db'").success
    ran = ip.run("%wfnb history")
    assert_one_line_error(ran.output, "WF300")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.pg
def test_connect_to_postgresql_connects_once(ip: Shell, pg_url: str) -> None:
    import sqlalchemy as sa

    ran = ip.run(f"%wfnb connect {pg_url}")
    assert ran.success, ran.output
    missing = sa.make_url(pg_url).set(database="wfnb_no_such_db")
    ran = ip.run(f"%wfnb connect {missing.render_as_string(hide_password=False)}")
    assert_one_line_error(ran.output, "WF300")
    assert "does not exist" in ran.output


@pytest.mark.parametrize(
    "cell",
    [
        "%wfnb history --limit -1",
        "%wfnb history --limit 99999999999999999999999",
        "%wfnb failures --limit -5",
        "%wfnb history --since 2026-10-02 --until 2026-10-01",
        "%wfnb failures --since 2026-10-02 --until 2026-10-01",
    ],
)
def test_bad_row_limits_and_windows_are_wf400(ip: Shell, draft_invoice: str, cell: str) -> None:
    ran = ip.run(cell)
    assert not ran.success
    assert_one_line_error(ran.output, "WF400")


def test_a_negative_row_limit_option_is_refused(
    ip: Shell, caplog: pytest.LogCaptureFixture
) -> None:
    magics = ip.shell.magics_manager.registry["WfnbMagics"]
    before = magics.row_limit
    ran = ip.run("%config WfnbMagics.row_limit = -5")
    assert "WF400" in ran.output + caplog.text  # IPython logs a refused %config
    assert "Traceback" not in ran.output + caplog.text
    assert magics.row_limit == before


def test_an_invalid_inline_step_is_one_line(ip: Shell, draft_invoice: str) -> None:
    ran = ip.run(f"%wfnb dryrun invoice {draft_invoice} admin --step '{{bad json'")
    assert not ran.success
    assert_one_line_error(ran.output, "WF400")
    assert "not JSON" in ran.output


def test_an_empty_history_says_0_rows(ip: Shell, draft_invoice: str) -> None:
    ran = ip.run("df = %wfnb history --workflow invoice --since 2030-01-01")
    assert ran.success, ran.output
    frame = ip.ns["df"]
    assert len(frame) == 0
    shown = ran.output + (frame._repr_html_() or "")
    assert "0 rows" in shown


@pytest.mark.timeout(60)
@pytest.mark.parametrize("command", ["load", "validate", "diff"])
def test_a_fifo_workflow_path_is_refused_not_read(ip: Shell, tmp_path: Path, command: str) -> None:
    import os

    fifo = tmp_path / "x.json"
    os.mkfifo(fifo)
    cell = f"%wfnb {command} {fifo}" + (f" {fifo}" if command == "diff" else "")
    ran = ip.run(cell)
    assert not ran.success
    assert_one_line_error(ran.output, "WF100")
    assert "a FIFO, not a regular file" in ran.output


@pytest.mark.parametrize("command", ["load", "validate"])
def test_a_folder_without_workflows_is_a_problem(ip: Shell, tmp_path: Path, command: str) -> None:
    ran = ip.run(f"%wfnb {command} {tmp_path}")
    assert not ran.success
    assert_one_line_error(ran.output, "WF100")
    assert "no workflow file" in ran.output


@pytest.mark.parametrize(
    ("cell", "text"),
    [
        ("%wfnb history --kind rejectd", "did you mean 'rejected'?"),
        ("%wfnb history --kind zzz", "no history kind 'zzz' (kinds: initiated, "),
        ("%wfnb history --all --limit 5", "not allowed with argument --all"),
    ],
)
def test_history_options_are_checked_before_reading(ip: Shell, cell: str, text: str) -> None:
    ran = ip.run(cell)
    assert_one_line_error(ran.output, "WF400")
    assert text in ran.output


def test_connect_says_so_as_plain_text(ip: Shell, draft_invoice: str, sqlite_url: str) -> None:
    ran = ip.run(f"%wfnb connect {sqlite_url}")
    assert ran.success
    data, _ = ip.shell.display_formatter.format(ran.result)
    assert data["text/plain"] == f"connected to {sqlite_url}"

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
        ("%wfnb load /no/such/folder", "WF400"),
        ("%wfnb validate", "WF400"),
        ("%wfnb connect notaurl://", "WF400"),
        ("%wfnb validate --db workflows", "WF400"),
        ('%wfnb validate "unclosed', "WF400"),
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

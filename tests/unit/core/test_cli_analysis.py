"""The reviewers' commands driven as main(argv): graph, paths, diff, report, conformance."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import REPO, WORKFLOWS
from wfnb import testing
from wfnb.cli import main
from wfnb.engine import Engine


def one_line_error(capsys: pytest.CaptureFixture[str], code: str) -> str:
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"{code}: "), err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err
    return err


@pytest.fixture
def ticket_file(tmp_path: Path) -> Path:
    path = tmp_path / "wf" / "ticket.json"
    path.parent.mkdir()
    path.write_text(json.dumps(testing.DEFAULT_WORKFLOW, indent=2))
    return path


def test_graph_prints_svg_dot_or_mermaid_with_dash_o_dash(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for fmt, marker in (("svg", "<svg"), ("dot", "digraph"), ("mermaid", "flowchart")):
        argv = ["graph", "user_registration", str(WORKFLOWS), "--format", fmt, "-o", "-"]
        assert main(argv) == 0
        assert marker in capsys.readouterr().out


def test_graph_writes_a_file_of_a_region_for_one_requester(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "g.dot"
    argv = ["graph", "user_registration", str(WORKFLOWS), "--format", "dot", "-o", str(target)]
    assert main([*argv, "--focus", "pending_admin_approval", "--depth", "1"]) == 0
    dot = target.read_text()
    assert "pending_admin_approval" in dot
    assert "pending_email_verification" not in dot  # three steps away
    assert capsys.readouterr().out.strip() == str(target)
    argv = ["graph", "user_registration", str(WORKFLOWS), "--requester", "user", "-o", "-"]
    assert main(argv) == 0
    assert "<svg" in capsys.readouterr().out


def test_paths_reads_workflows_folder_by_default(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(REPO)
    assert main(["paths", "user_registration"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("paths of user_registration, from pending_email_verification")
    assert "  to rejected: " in out
    assert main(["paths", "user_registration", "--requester", "user"]) == 0
    assert "(as user)" in capsys.readouterr().out


def test_no_path_and_no_workflows_folder_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["paths", "invoice"]) == 2
    assert "no workflows/ folder" in one_line_error(capsys, "WF400")


@pytest.mark.parametrize("command", ["graph", "paths"])
def test_unknown_workflow_is_one_wf200_line(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command, "nope", str(WORKFLOWS)]) == 1
    assert "unknown workflow 'nope'" in one_line_error(capsys, "WF200")


@pytest.mark.parametrize(
    "argv",
    [
        ["graph"],
        ["graph", "invoice", "--format", "gif"],
        ["graph", "invoice", "--depth", "deep"],
        ["graph", "invoice", str(WORKFLOWS), "--focus", "nowhere"],
        ["graph", "invoice", str(WORKFLOWS), "--requester", "robot"],
        ["paths"],
        ["paths", "invoice", str(WORKFLOWS), "--requester", "robot"],
        ["diff"],
        ["diff", "only.json"],
        ["diff", "a.json", "b.json", "c.json"],
        ["diff", "a.json", "b.json", "--rev", "HEAD"],
        ["report", "--db"],
        ["conformance"],
        ["conformance", "--db", "sqlite://", "--format", "xml"],
    ],
)
def test_bad_arguments_exit_2_with_one_wf400_line(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    one_line_error(capsys, "WF400")


def test_diff_of_two_files(ticket_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(ticket_file.read_text())
    data["status_types"].append("archived")
    data["terminal_statuses"].append("archived")
    data["steps"].append({"key": "archive", "status": "resolved", "successful_state": "archived"})
    newer = ticket_file.with_name("newer.json")
    newer.write_text(json.dumps(data))
    assert main(["diff", str(ticket_file), str(newer)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("diff of ticket")
    assert "archive" in out


def test_diff_of_one_file_at_two_revisions(
    ticket_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = ticket_file.parent

    def git(*args: str) -> None:
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
                       cwd=repo, check=True, capture_output=True)  # fmt: skip

    git("init", "-q")
    git("add", ".")
    git("commit", "-q", "-m", "one")
    data = json.loads(ticket_file.read_text())
    data["steps"] = [s for s in data["steps"] if s["key"] != "reopen"]
    ticket_file.write_text(json.dumps(data))
    git("commit", "-q", "-am", "two")
    assert main(["diff", str(ticket_file), "--rev", "HEAD~1", "--rev", "HEAD"]) == 0
    assert "reopen" in capsys.readouterr().out
    assert main(["diff", str(ticket_file), "--rev", "no-such-rev"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert ": WF100 cannot read workflow: no git revision 'no-such-rev'" in err
    assert len(err.strip().splitlines()) == 1


def test_report_writes_the_html_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "review.html"
    assert main(["report", str(WORKFLOWS), "-o", str(target)]) == 0
    assert capsys.readouterr().out.strip() == str(target)
    assert target.read_text(encoding="utf-8").count("<svg") == 4


def _history(db_url: str, ticket_file: Path, *, tamper: bool) -> None:
    wf = testing.make_workflow()
    engine = Engine([wf], db_url)
    engine.install()
    testing.create_entity_table(engine.db, wf)
    testing.insert_entity(engine.db, wf, "t1")
    engine.execute_step("ticket", "t1", "admin", step="submit").raise_for_error()
    if tamper:
        tickets = sa.table("tickets", sa.column("id"), sa.column("status"))
        with engine.db.begin() as conn:
            conn.execute(sa.update(tickets).values(status="refused"))
    engine.dispose()


def test_conformance_exits_1_on_deviations_and_speaks_json(
    sqlite_url: str, ticket_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _history(sqlite_url, ticket_file, tamper=True)
    assert main(["conformance", "--db", sqlite_url, str(ticket_file)]) == 1
    assert "status_mismatch: 1" in capsys.readouterr().out
    assert main(["conformance", "--db", sqlite_url, str(ticket_file), "--format", "json"]) == 1
    payload = json.loads(capsys.readouterr().out)
    assert payload["counts"] == {"status_mismatch": 1}
    assert payload["rows"] == 1


def test_conformance_exits_0_on_clean_history(
    sqlite_url: str, ticket_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _history(sqlite_url, ticket_file, tamper=False)
    assert main(["conformance", "--db", sqlite_url, str(ticket_file)]) == 0
    assert "no history row deviates (fitness 1.0000 of 1 row)" in capsys.readouterr().out


def test_conformance_without_history_is_one_store_error_line(
    sqlite_url: str, ticket_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = sa.create_engine(sqlite_url)  # a database without the engine's tables
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE unrelated (id INTEGER)"))
    engine.dispose()
    assert main(["conformance", "--db", sqlite_url, str(ticket_file)]) == 1
    assert "workflow_history" in one_line_error(capsys, "WF300")


def test_the_readme_diff_example_shows_a_change_in_sentences(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    line = next(x for x in readme.splitlines() if x.startswith("$ wfnb diff ") and "--rev" in x)
    argv = line.removeprefix("$ wfnb ").split("[")[0].split()
    monkeypatch.chdir(REPO)
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert ": 1 change\n" in out
    assert "  step cancel_approved added" in out
    assert "None" not in out
    assert "'" not in out  # no Python reprs


def test_graph_writes_name_svg_here_and_png_via_dot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["graph", "invoice", str(WORKFLOWS)]) == 0
    assert capsys.readouterr().out.strip() == "invoice.svg"
    assert (tmp_path / "invoice.svg").read_text(encoding="utf-8").lstrip().startswith("<")
    assert "<svg" in (tmp_path / "invoice.svg").read_text(encoding="utf-8")
    assert main(["graph", "invoice", str(WORKFLOWS), "--format", "png"]) == 0
    assert capsys.readouterr().out.strip() == "invoice.png"
    assert (tmp_path / "invoice.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert main(["graph", "invoice", str(WORKFLOWS), "--format", "mermaid", "-o", "m.mmd"]) == 0
    assert capsys.readouterr().out.strip() == "m.mmd"
    assert (tmp_path / "m.mmd").read_text(encoding="utf-8").startswith("flowchart")

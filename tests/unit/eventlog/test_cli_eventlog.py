"""``wfnb export`` / ``wfnb import`` as ``main(argv)``: a report line, or one coded line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import WORKFLOWS
from tests.names import defined_functions
from wfnb import frames
from wfnb.cli import main
from wfnb.simulation.demo import build_demo
from wfnb.store import eventlog as eventlog_sql


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'demo.db'}"
    build_demo(url, users=20, months=2, progress=False)
    return url


def test_every_statement_is_listed() -> None:
    assert sorted(eventlog_sql.EVENTLOG_QUERY_NAMES) == sorted(defined_functions(eventlog_sql))


def test_export_then_import_on_the_command_line(
    demo: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "inv.xes.gz"
    assert main(["export", "--db", demo, "-o", str(log), "--workflow", "invoice"]) == 0
    wrote = capsys.readouterr().out
    target = f"sqlite:///{tmp_path / 'new.db'}"
    assert main(["import", str(log), str(WORKFLOWS), "--db", target]) == 0
    done = capsys.readouterr().out
    rows = len(frames.history(demo, workflow="invoice", limit=None))
    assert f"wrote {rows:,} events" in wrote
    assert done.startswith(f"imported {rows:,} events")
    assert len(frames.history(target, limit=None)) == rows


@pytest.mark.parametrize(
    ("argv", "code", "needle"),
    [
        (["export", "--db", "{demo}", "-o", "{tmp}/x.txt"], 2, "WF400: cannot tell the format"),
        (["export", "--db", "{demo}", "-o", "{tmp}/nofolder/x.xes"], 2, "WF400: cannot write"),
        (["export", "--db", "{demo}", "-o", "{tmp}/x.xes", "--format", "pdf"], 2, "WF400"),
        (["export", "--db", "{demo}", "-o", "{tmp}/x.xes", "--since", "2026-02-01",
          "--until", "2026-01-01"], 2, "WF400: --since"),
        (["export", "--db", "sqlite:///{tmp}/none.db", "-o", "{tmp}/x.xes"], 1, "WF300"),
        (["import", "{tmp}/bad.xes", "{workflows}", "--db", "sqlite:///{tmp}/n.db",
          "--workflow", "invoic"], 1, "WF200: unknown workflow 'invoic'; did you mean 'invoice'"),
        (["export", "--db", "{demo}", "-o", "{tmp}/x.xes", "--workflow", "invoic"], 1,
         "WF200: unknown workflow 'invoic'; did you mean 'invoice'"),
        (["import", "{tmp}/bad.xes", "{workflows}", "--db", "sqlite:///{tmp}/n.db",
          "--mapping", '{{"cse": 1}}'], 2, "WF400: mapping: unknown key 'cse'"),
        (["import", "{tmp}/bad.xes", "{workflows}", "--db", "sqlite:///{tmp}/n.db",
          "--workflow", "invoice"], 1, "WF401: bad.xes: line 1, column 29: not well-formed"),
        (["import", "{tmp}/missing.xes", "{workflows}", "--db", "sqlite:///{tmp}/n.db"], 2,
         "WF400: cannot read"),
    ],
)  # fmt: skip
def test_bad_arguments_are_one_coded_line(  # noqa: PLR0917  # fixtures and parameters
    demo: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    code: int,
    needle: str,
) -> None:
    (tmp_path / "bad.xes").write_text('<log xes.version="1"><trace>', encoding="utf-8")
    values = {"demo": demo, "tmp": str(tmp_path), "workflows": str(WORKFLOWS)}
    assert main([a.format(**values) for a in argv]) == code
    captured = capsys.readouterr()
    assert captured.err.startswith(needle), captured.err
    assert captured.err.count("\n") == 1
    assert not captured.out
    assert not (tmp_path / "x.xes").exists()
    assert not list(tmp_path.glob("*.partial"))


def test_a_refused_import_leaves_no_new_database_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("case,activity,time\n1,a,notatime\n", encoding="utf-8")
    target = tmp_path / "fresh.db"
    code = main(["import", str(bad), str(WORKFLOWS), "--db", f"sqlite:///{target}"])
    err = capsys.readouterr().err
    assert code != 0
    assert err.startswith("WF401")
    assert len(err.strip().splitlines()) == 1
    assert not target.exists()

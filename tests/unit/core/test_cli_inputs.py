"""Bad input on every subcommand: one coded line (never WF000), no traceback, nothing created."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import WORKFLOWS
from wfnb.cli import main

W = str(WORKFLOWS)
INVOICE = str(WORKFLOWS / "invoice.json")


@pytest.fixture
def bad(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder (also the cwd) full of bad inputs."""
    os.mkfifo(tmp_path / "fifo.json")
    (tmp_path / "notutf8.json").write_bytes(b"\xff\xfe{")
    (tmp_path / "notjson.json").write_text("nope")
    (tmp_path / "badscenario.json").write_text(json.dumps({"arrivals": [{"count": -1}]}))
    (tmp_path / "scenario.json").write_text("{}")
    (tmp_path / "empty").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def files(root: Path) -> set[Path]:
    return set(root.rglob("*"))


SIM = ["simulate", W, "--quiet", "--db", "sqlite:///{t}/s.db"]

# fmt: off
CASES: list[tuple[str, list[str], str]] = [
    ("fifo workflow", ["validate", "{t}/fifo.json"], "WF100"),
    ("fifo in a folder", ["validate", "{t}"], "WF100"),
    ("folder without workflows", ["validate", "{t}/empty"], "WF100"),
    ("non-utf8 workflow", ["validate", "{t}/notutf8.json"], "WF100"),
    ("missing workflow", ["validate", "{t}/absent.json"], "WF100"),
    ("validate --db missing", ["validate", W, "--db", "sqlite:///{t}/nosuch.db"], "WF300"),
    ("validate --db not a url", ["validate", W, "--db", "notaurl"], "WF400"),
    ("validate --db no dialect", ["validate", W, "--db", "foo://"], "WF400"),
    ("validate --db not sqlite", ["validate", W, "--db", "sqlite:///{t}/notjson.json"], "WF300"),
    ("diff --db missing", ["diff", INVOICE, INVOICE, "--db", "sqlite:///{t}/nosuch.db"], "WF300"),
    ("diff of a fifo", ["diff", "{t}/fifo.json", INVOICE], "WF100"),
    ("diff of non-utf8", ["diff", "{t}/notutf8.json", INVOICE], "WF100"),
    ("diff at no revision", ["diff", INVOICE, "--rev", "no-such-rev"], "WF100"),
    (
        "report --db missing",
        ["report", W, "-o", "{t}/r.html", "--db", "sqlite:///{t}/n.db"],
        "WF300",
    ),
    ("report into no folder", ["report", W, "-o", "{t}/no/dir/r.html"], "WF400"),
    ("conformance missing db", ["conformance", W, "--db", "sqlite:///{t}/nosuch.db"], "WF300"),
    ("conformance bad url", ["conformance", W, "--db", "notaurl"], "WF400"),
    ("history missing db", ["history", "--db", "sqlite:///{t}/nosuch.db"], "WF300"),
    ("failures missing db", ["failures", "--db", "sqlite:///{t}/nosuch.db"], "WF300"),
    ("history bad url", ["history", "--db", "notaurl"], "WF400"),
    ("history negative limit", ["history", "--db", "sqlite://", "--limit", "-1"], "WF400"),
    ("history huge limit", ["history", "--db", "sqlite://", "--limit", "9" * 30], "WF400"),
    ("history bad since", ["history", "--db", "sqlite://", "--since", "yesterday"], "WF400"),
    (
        "history since > until",
        ["history", "--db", "sqlite://", "--since", "2026-10-02", "--until", "2026-10-01"],
        "WF400",
    ),
    (
        "history unknown workflow",
        ["history", W, "--db", "sqlite://", "--workflow", "invoce"],
        "WF200",
    ),
    ("history limit and all", ["history", "--db", "sqlite://", "--limit", "3", "--all"], "WF400"),
    ("graph into no folder", ["graph", "invoice", W, "-o", "{t}/no/dir/g.svg"], "WF400"),
    ("graph into a folder", ["graph", "invoice", W, "-o", "{t}/empty"], "WF400"),
    ("graph png to stdout", ["graph", "invoice", W, "--format", "png", "-o", "-"], "WF400"),
    ("graph of a fifo", ["graph", "invoice", "{t}/fifo.json"], "WF100"),
    ("graph unknown workflow", ["graph", "invoce", W], "WF200"),
    ("paths of an empty folder", ["paths", "invoice", "{t}/empty"], "WF100"),
    ("paths of no folder", ["paths", "invoice"], "WF400"),
    ("schema into a folder", ["schema", "-o", "{t}/empty"], "WF400"),
    ("schema into no folder", ["schema", "-o", "{t}/no/dir/s.json"], "WF400"),
    ("demo bad url", ["demo", "--quiet", "--db", "notaurl"], "WF400"),
    ("demo no folder", ["demo", "--quiet", "--db", "sqlite:///{t}/no/dir/d.db"], "WF400"),
    (
        "demo negative users",
        ["demo", "--quiet", "--users", "-5", "--db", "sqlite:///{t}/d.db"],
        "WF400",
    ),
    ("demo one month", ["demo", "--quiet", "--months", "1", "--db", "sqlite:///{t}/d.db"], "WF400"),
    ("simulate missing scenario", [*SIM, "--scenario", "{t}/absent.json"], "WF400"),
    ("simulate non-json scenario", [*SIM, "--scenario", "{t}/notjson.json"], "WF400"),
    ("simulate non-utf8 scenario", [*SIM, "--scenario", "{t}/notutf8.json"], "WF400"),
    ("simulate fifo scenario", [*SIM, "--scenario", "{t}/fifo.json"], "WF400"),
    ("simulate invalid scenario", [*SIM, "--scenario", "{t}/badscenario.json"], "WF400"),
    (
        "simulate negative entities",
        [*SIM, "--scenario", "{t}/scenario.json", "--entities", "-5"],
        "WF400",
    ),
    ("simulate nan days", [*SIM, "--scenario", "{t}/scenario.json", "--days", "nan"], "WF400"),
    ("simulate negative days", [*SIM, "--scenario", "{t}/scenario.json", "--days", "-3"], "WF400"),
    ("simulate missing db", [*SIM, "--scenario", "{t}/scenario.json"], "WF300"),
    (
        "simulate bad schema",
        [*SIM, "--scenario", "{t}/scenario.json", "--schema", "nocolon"],
        "WF400",
    ),
    (
        "simulate bad url",
        ["simulate", W, "--db", "notaurl", "--scenario", "{t}/scenario.json"],
        "WF400",
    ),
    ("worker bad url", ["worker", W, "--once", "--db", "notaurl"], "WF400"),
    ("worker missing sqlite", ["worker", W, "--once", "--db", "sqlite:///{t}/w.db"], "WF300"),
    ("worker negative poll", ["worker", W, "--once", "--db", "sqlite://", "--poll-interval",
                              "-1"], "WF400"),
    ("worker fifo workflow", ["worker", "{t}/fifo.json", "--once", "--db", "sqlite://"],
     "WF100"),
    ("empty workflow path", ["validate", ""], "WF400"),
    ("unknown command", ["valdate", W], "WF400"),
]
# fmt: on


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("argv", "code"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_coded_line_and_creates_nothing(
    bad: Path, argv: list[str], code: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = files(bad)
    exit_code = main([a.replace("{t}", str(bad)) for a in argv])
    out, err = capsys.readouterr()
    assert exit_code == (2 if code == "WF400" else 1), err
    assert "WF000" not in out + err
    assert "Traceback" not in out + err
    if out:  # validate: a problem per line on stdout, its summary on stderr
        assert argv[0] == "validate", out
        assert all(f": {code} " in line for line in out.strip().splitlines()), out
        assert err.strip().endswith("warning(s)")
    else:
        lines = err.strip().splitlines()
        assert len(lines) == 1, err
        assert code in lines[0], err
    assert files(bad) == before


def test_validate_of_a_folder_without_workflows_exits_1_in_json_too(
    bad: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(bad / "empty"), "--format", "json"]) == 1
    payload = json.loads(capsys.readouterr().out)
    assert payload["ok"] is False
    assert [p["code"] for p in payload["problems"]] == ["WF100"]


def test_unknown_names_suggest_the_closest(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["histroy", "--db", "sqlite://"]) == 2
    assert "did you mean 'history'?" in capsys.readouterr().err
    assert main(["graph", "invoce", W]) == 1
    assert "did you mean 'invoice'?" in capsys.readouterr().err
    assert main(["graph", "invoice", W, "--focus", "snet", "-o", "-"]) == 2
    assert "invoice has no status 'snet'; did you mean 'sent'?" in capsys.readouterr().err
    assert main(["paths", "invoice", W, "--requester", "admn"]) == 2
    assert "no requester type 'admn'; did you mean 'admin'?" in capsys.readouterr().err


def test_help_of_every_command_exits_0_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    commands = ["validate", "graph", "paths", "diff", "history", "failures", "demo", "simulate"]
    assert all(name in out for name in commands)
    for name in commands:
        assert main([name, "--help"]) == 0
        assert capsys.readouterr().out.startswith(f"usage: wfnb {name}")


def test_paths_without_its_workflow_name_names_only_what_is_missing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["paths"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "WF400: wfnb paths: the following arguments are required: name"


def _run(*argv: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run(
        [sys.executable, "-m", "wfnb", *argv],
        cwd=cwd,
        capture_output=True,
        timeout=timeout,
        check=False,
        env=env,
    )


def test_a_fifo_never_hangs_validate_as_a_process(bad: Path) -> None:
    done = _run("validate", str(bad / "fifo.json"), cwd=bad, timeout=30)
    assert done.returncode == 1
    assert b"WF100 cannot read workflow: a FIFO, not a regular file" in done.stderr
    assert b"Traceback" not in done.stderr


def test_a_non_utf8_path_is_printed_not_a_crash(bad: Path) -> None:
    name = os.fsdecode(b"caf\xe9.json")  # a Latin-1 file name on a UTF-8 system
    done = _run("validate", name, cwd=bad)
    assert done.returncode == 1
    assert b"WF100" in done.stdout
    assert b"WF000" not in done.stderr
    assert b"Traceback" not in done.stderr
    assert b"caf\\udce9.json" in done.stdout  # shown escaped, never a crash


def test_a_reader_that_leaves_early_gets_no_error(tmp_path: Path) -> None:
    """`wfnb history ... | head`: the closed pipe ends the command quietly (no WF line)."""
    from datetime import UTC, datetime

    import sqlalchemy as sa

    from wfnb.engine import Engine
    from wfnb.store.tables import HISTORY
    from wfnb.testing import make_workflow

    url = f"sqlite:///{tmp_path / 'big.db'}"
    engine = Engine([make_workflow()], url)
    engine.install()
    row = {"workflow": "ticket", "entity_table": "tickets", "kind": "initiated",
           "to_status": "open", "config_hash": "0" * 64, "metadata": {"note": "x" * 200},
           "changed_at": datetime(2026, 1, 1, tzinfo=UTC)}  # fmt: skip
    with engine.db.begin() as conn:
        conn.execute(sa.insert(HISTORY), [{**row, "entity_id": f"t{i}"} for i in range(2000)])
    engine.dispose()
    proc = subprocess.Popen(
        [sys.executable, "-m", "wfnb", "history", "--db", url, "--all", "--format", "json"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert proc.stdout is not None
    assert proc.stdout.read(10)
    proc.stdout.close()
    _, err = proc.communicate(timeout=120)
    assert err == b""
    assert proc.returncode == 141


@pytest.mark.pg
@pytest.mark.parametrize(
    "argv",
    [
        ["validate", W, "--db", "{url}"],
        ["conformance", W, "--db", "{url}"],
        ["history", "--db", "{url}"],
        ["failures", "--db", "{url}"],
        ["report", W, "-o", "{t}/r.html", "--db", "{url}"],
        ["diff", INVOICE, INVOICE, "--db", "{url}"],
    ],
    ids=lambda a: a[0],
)
def test_a_missing_postgresql_database_is_one_wf300_line(
    pg_url: str, bad: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlalchemy as sa

    url = sa.make_url(pg_url).set(database="wfnb_no_such_database")
    text = url.render_as_string(hide_password=False)
    before = files(bad)
    assert main([a.replace("{url}", text).replace("{t}", str(bad)) for a in argv]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("WF300: cannot connect to ")
    assert 'database "wfnb_no_such_database" does not exist' in err
    assert len(err.strip().splitlines()) == 1
    assert files(bad) == before


def test_what_escapes_the_checks_still_gets_its_family_code() -> None:
    import pydantic
    import sqlalchemy as sa

    from wfnb.cli_checks import family_line

    class Model(pydantic.BaseModel):
        n: int

    try:
        Model.model_validate({"n": "x"})
    except pydantic.ValidationError as exc:
        invalid = exc
    driver = sa.exc.OperationalError("SELECT 1", {}, Exception("boom\nsecond line"))
    assert (family_line(driver) or "").startswith("WF300: database error: OperationalError")
    assert "\n" not in (family_line(driver) or "")
    assert "Background on this error" not in (family_line(driver) or "")
    missing = FileNotFoundError(2, "No such file or directory", "/x/y")
    assert family_line(missing) == "WF400: cannot use /x/y: No such file or directory"
    assert (family_line(invalid) or "").startswith("WF400: bad input: ValidationError")
    assert (family_line(RecursionError("deep")) or "").startswith("WF400: bad input")
    assert family_line(RuntimeError("a bug")) is None  # a real bug stays WF000

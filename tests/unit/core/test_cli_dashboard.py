"""``wfnb dashboard``: its help, its refusals (one coded line, nothing started), and the Voilà
command it runs (loopback by default, behind the token)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import WORKFLOWS
from wfnb.cli import build_parser, main
from wfnb.cli_dashboard import dashboard_command
from wfnb.engine import Engine
from wfnb.validation import load_workflows

W = str(WORKFLOWS)


def test_help_names_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dashboard", "--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--db", "--port", "--ip", "--token", "--workflow"):
        assert option in out


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["dashboard", W, "--db", "sqlite:///no/such.db"], "WF300"),
        (["dashboard", "no-such-folder", "--db", "{db}"], "WF400"),
        (["dashboard", W, "--db", "{db}", "--workflow", "nope"], "WF400"),
    ],
)
def test_mistakes_are_one_coded_line(
    argv: list[str], code: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'wfnb.db'}"
    Engine(load_workflows([W]), url).install()
    assert main([a.replace("{db}", url) for a in argv]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith(code), err


def test_it_listens_on_loopback_behind_its_token(tmp_path: Path) -> None:
    args = build_parser().parse_args(["dashboard", W, "--db", "sqlite:///x.db"])
    assert (args.ip, args.port, args.token) == ("127.0.0.1", 8866, None)
    cmd = dashboard_command(tmp_path, port=args.port, ip=args.ip, token="secret")
    assert "--Voila.ip=127.0.0.1" in cmd
    assert "--Voila.token=secret" in cmd
    assert str(tmp_path / "dashboard.ipynb") in cmd

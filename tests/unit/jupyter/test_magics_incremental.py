"""``%wfnb conformance --incremental`` and ``wfnb conformance --incremental`` (ADR 0112)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.unit.core.test_cli_analysis import _history
from tests.unit.jupyter.conftest import Shell
from tests.unit.jupyter.test_magics_data import filled  # noqa: F401  # a fixture
from wfnb import testing
from wfnb.cli import main
from wfnb.store.checkpoints import CHECKPOINTS


def _checkpoints(url: str) -> int:
    db = sa.create_engine(url)
    try:
        with db.connect() as conn:
            return int(
                conn.execute(sa.select(sa.func.count()).select_from(CHECKPOINTS)).scalar_one()
            )
    finally:
        db.dispose()


def test_the_magic_keeps_a_checkpoint_and_reports_as_a_full_run(
    ip: Shell,
    filled: dict[str, str],  # noqa: F811
) -> None:
    full = ip.run("full = %wfnb conformance user_registration --now 2030-01-01")
    assert full.success, full.output
    ran = ip.run("k = %wfnb conformance user_registration --incremental --now 2030-01-01")
    assert ran.success, ran.output
    assert ip.ns["k"].to_json() == ip.ns["full"].to_json()
    assert _checkpoints(filled["url"]) == 1


def test_the_cli_keeps_a_checkpoint_and_reports_as_a_full_run(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "wf" / "ticket.json"
    path.parent.mkdir()
    path.write_text(json.dumps(testing.DEFAULT_WORKFLOW, indent=2))
    _history(sqlite_url, path, tamper=True)
    argv = ["conformance", "--db", sqlite_url, str(path), "--format", "json", "--now", "2030-01-01"]
    assert main(argv) == 1
    full = json.loads(capsys.readouterr().out)
    for _ in range(2):
        assert main([*argv, "--incremental"]) == 1
        assert json.loads(capsys.readouterr().out) == full
    assert _checkpoints(sqlite_url) == 1

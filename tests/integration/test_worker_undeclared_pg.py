"""`wfnb worker` refuses to start on entities at undeclared statuses (issue 16.2), unless told."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import REPO
from tests.unit.engine.test_timers_wired import WAITING

pytestmark = pytest.mark.pg


def worker(path: Path, pg_url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wfnb", "worker", str(path), "--db", pg_url, "--install",
         "--once", "--poll-interval", "0.2", "--recovery-cron", "", *extra],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_the_worker_refuses_a_forgotten_migration_unless_allowed(
    pg_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "application.json"
    path.write_text(json.dumps(WAITING))
    db = sa.create_engine(pg_url)
    with db.begin() as conn:  # a free TEXT status column: no CHECK, no enum to read
        conn.execute(
            sa.text(
                "CREATE TABLE applications "
                "(id TEXT PRIMARY KEY, status TEXT NOT NULL, version INTEGER NOT NULL)"
            )
        )
        conn.execute(  # a status the config no longer declares
            sa.text("INSERT INTO applications VALUES ('a1', 'archived', 3), ('a2', 'waiting', 0)")
        )
    db.dispose()

    refused = worker(path, pg_url)
    assert refused.returncode == 1, refused.stderr
    assert "Traceback" not in refused.stderr
    line = refused.stderr.strip().splitlines()[-1]
    assert line.startswith(f"{path}:/entity/status_column: WF112 "), line
    assert "holds 1 entity at status 'archived'" in line
    assert "UPDATE applications SET status='waiting'" in line

    allowed = worker(path, pg_url, "--allow-undeclared-statuses")
    assert allowed.returncode == 0, allowed.stderr
    assert "WARNING" in allowed.stderr
    assert "WF112" in allowed.stderr

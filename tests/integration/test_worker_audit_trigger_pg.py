"""`wfnb worker --audit-trigger` installs the audit trigger before it runs (issue 16.7)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.integration.test_worker_undeclared_pg import worker
from tests.unit.engine.test_timers_wired import WAITING

pytestmark = pytest.mark.pg


def test_the_worker_installs_the_audit_trigger_when_told(pg_url: str, tmp_path: Path) -> None:
    path = tmp_path / "application.json"
    path.write_text(json.dumps(WAITING))
    db = sa.create_engine(pg_url)
    try:
        with db.begin() as conn:
            conn.execute(
                sa.text(
                    "CREATE TABLE applications "
                    "(id TEXT PRIMARY KEY, status TEXT NOT NULL, version INTEGER NOT NULL)"
                )
            )
            conn.execute(sa.text("INSERT INTO applications VALUES ('a1', 'waiting', 0)"))
        plain = worker(path, pg_url)
        assert plain.returncode == 0, plain.stderr
        with db.begin() as conn:
            conn.execute(sa.text("UPDATE applications SET status = 'done' WHERE id = 'a1'"))
        audited = worker(path, pg_url, "--audit-trigger")
        assert audited.returncode == 0, audited.stderr
        with db.begin() as conn:
            conn.execute(sa.text("UPDATE applications SET status = 'waiting' WHERE id = 'a1'"))
            kinds = conn.execute(
                sa.text("SELECT kind, from_status, to_status, source FROM workflow_history")
            ).all()
        assert [tuple(k) for k in kinds] == [("manual", "done", "waiting", "postgres")]
    finally:
        db.dispose()

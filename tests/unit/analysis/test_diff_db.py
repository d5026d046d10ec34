"""diff() against a database (entities at removed/renamed statuses, a runnable UPDATE) and git."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.unit.analysis.builders import invoice
from wfnb.analysis import diff, diff_revisions
from wfnb.exceptions import StoreError
from wfnb.spec import Workflow

ROWS = ["draft", "draft", "review", "review", "review", "approved", "paid"]


def _without_review() -> Workflow:
    data = invoice()
    data["status_types"].remove("review")
    data["steps"] = [s for s in data["steps"] if s["key"] != "submit"]
    data["steps"][0] = {**data["steps"][0], "status": "draft"}
    return Workflow.model_validate(data)


def _renamed() -> Workflow:
    return Workflow.model_validate(json.loads(json.dumps(invoice()).replace('"approved"', '"ok"')))


def _entities(url: str, *, version: bool = True) -> sa.Engine:
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    cols = [sa.Column("id", sa.Integer, primary_key=True), sa.Column("status", sa.String(40))]
    if version:
        cols.append(sa.Column("version", sa.Integer, nullable=False))
    table = sa.Table("invoices", meta, *cols)
    meta.create_all(engine)
    with engine.begin() as conn:
        rows = [
            {"id": i, "status": s, **({"version": 1} if version else {})}
            for i, s in enumerate(ROWS)
        ]
        conn.execute(table.insert(), rows)
    return engine


def _by_status(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT status, count(*) FROM invoices GROUP BY status"))
        return {s: int(n) for s, n in rows}


def test_removed_status_counts_entities_and_gives_an_update_that_runs(db_url: str):
    engine = _entities(db_url)
    try:
        d = diff(Workflow.model_validate(invoice()), _without_review(), db=db_url)
        (change,) = d.migrations
        assert (change.subject, change.target, change.entities) == ("review", "draft", 3)
        assert change.update == (
            "UPDATE invoices SET status='draft', version=(invoices.version + 1) "
            "WHERE invoices.status = 'review';"
        )
        assert all(c.entities is None for c in d.changes if not c.migration_needed)
        with engine.begin() as conn:
            conn.execute(sa.text(change.update))
        assert _by_status(engine) == {"draft": 5, "approved": 1, "paid": 1}
        with engine.connect() as conn:
            bumped = conn.execute(sa.text("SELECT count(*) FROM invoices WHERE version = 2"))
            assert bumped.scalar_one() == 3
        assert "(3 entities)" in str(d)
    finally:
        engine.dispose()


def test_renamed_status_with_an_engine_and_no_version_column(sqlite_url: str):
    engine = _entities(sqlite_url, version=False)
    d = diff(Workflow.model_validate(invoice()), _renamed(), db=engine)
    (change,) = d.migrations
    assert (change.kind, change.entities, change.target) == ("status_renamed", 1, "ok")
    assert change.update == "UPDATE invoices SET status='ok' WHERE invoices.status = 'approved';"
    with engine.begin() as conn:
        conn.execute(sa.text(change.update))
    assert _by_status(engine) == {"draft": 2, "review": 3, "ok": 1, "paid": 1}
    assert d.to_frame().loc[0, "entities"] == 1
    engine.dispose()


def test_a_status_nobody_sits_at_counts_zero(sqlite_url: str):
    engine = _entities(sqlite_url)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM invoices WHERE status = 'review'"))
    (change,) = diff(Workflow.model_validate(invoice()), _without_review(), db=engine).migrations
    assert change.entities == 0
    engine.dispose()


def test_a_missing_entity_table_is_a_store_error(sqlite_url: str):
    with pytest.raises(StoreError, match="'invoices' does not exist") as info:
        diff(Workflow.model_validate(invoice()), _without_review(), db=sqlite_url)
    assert info.value.code == "WF300"


def test_no_migration_means_no_database_access(tmp_path: Path):
    missing = f"sqlite:///{tmp_path / 'never' / 'created.db'}"
    d = diff(Workflow.model_validate(invoice()), Workflow.model_validate(invoice()), db=missing)
    assert d.changes == ()


def _git(repo: Path, *args: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org",
    }
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def test_diff_between_git_revisions_of_one_file(tmp_path: Path):
    _git(tmp_path, "init", "-q", ".")
    path = tmp_path / "invoice.json"
    path.write_text(json.dumps(invoice(), indent=1))
    _git(tmp_path, "add", "invoice.json")
    _git(tmp_path, "commit", "-qm", "first")
    path.write_text(json.dumps(invoice(), indent=1).replace('"approved"', '"ok"'))
    _git(tmp_path, "commit", "-qam", "rename approved")
    path.write_text(_without_review().model_dump_json(by_alias=True).replace('"approved"', '"ok"'))
    committed = diff_revisions(path, "HEAD~1", "HEAD")
    assert [(c.kind, c.subject) for c in committed.changes] == [("status_renamed", "approved")]
    assert committed.old.config_rev is not None
    work_tree = diff_revisions(path, "HEAD")  # against the uncommitted edit
    assert [str(c.kind) for c in work_tree.migrations] == ["status_removed"]

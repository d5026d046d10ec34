"""``diff(old, new, db)``: an added status the table's status CHECK refuses needs a migration.

WF112 says so at start-up; the diff must not say "0 needing migration" (issue 15 item 16).
"""

from __future__ import annotations

import sqlalchemy as sa

from wfnb import testing
from wfnb.analysis.diff import diff
from wfnb.spec import Workflow

OLD = testing.make_workflow()


def _escalating() -> Workflow:
    raw = OLD.model_dump(mode="json", by_alias=True, exclude_none=True)
    raw["status_types"] = [*raw["status_types"], "escalated"]
    raw["steps"] = [*raw["steps"], {"key": "escalate", "status": "triaged",
                                    "requester_types": ["admin"], "successful_state": "escalated"},
                    {"key": "settle", "status": "escalated", "requester_types": ["admin"],
                     "successful_state": "resolved"}]  # fmt: skip
    return Workflow.model_validate(raw)


def test_an_added_status_the_check_refuses_needs_a_migration(db_url: str) -> None:
    db = sa.create_engine(db_url)
    try:
        testing.create_entity_table(db, OLD)
        d = diff(OLD, _escalating(), db=db_url)
        [change] = d.migrations
        assert (str(change.kind), change.subject) == ("status_added", "escalated")
        assert "does not accept 'escalated'" in change.note
        assert change.update is not None
        assert "'escalated'" in change.update
        assert "1 needing migration" in repr(d)
        assert "migrate the schema for escalated:" in str(d)
        if db.dialect.name == "postgresql":  # the line runs, and then nothing is left to do
            with db.begin() as conn:
                conn.execute(sa.text(change.update))
            assert diff(OLD, _escalating(), db=db_url).migrations == ()
    finally:
        db.dispose()


def test_an_added_status_an_unrestricted_column_takes_needs_none(db_url: str) -> None:
    db = sa.create_engine(db_url)
    try:
        with db.begin() as conn:
            columns = "id VARCHAR(64) PRIMARY KEY, status VARCHAR(64), version INTEGER"
            conn.execute(sa.text(f"CREATE TABLE tickets ({columns})"))
        d = diff(OLD, _escalating(), db=db_url)
        assert d.migrations == ()
        assert not d.migration_needed
    finally:
        db.dispose()


def test_without_a_database_an_added_status_needs_none() -> None:
    assert diff(OLD, _escalating()).migrations == ()

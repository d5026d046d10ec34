"""A prototype status, dry-run before its migration (issue 15 item 16).

The source's status column refuses the new status (a CHECK on both dialects, an enum on
PostgreSQL); the sandbox's shadow takes it, keeps every other constraint, and the dry-run
says which migration the real table still needs. A store error in a dry-run is a failed
result, and an id of the wrong type is the engine's WF208, not a store error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

import wfnb.sandbox
from wfnb import testing
from wfnb.engine import Engine, Outcome
from wfnb.engine.usecases import Result, StepContext
from wfnb.sandbox import dry_run
from wfnb.spec import Workflow, Workflows
from wfnb.store import configure_sqlite

WF = testing.make_workflow()
WFS = Workflows({"ticket": WF})
ESCALATE = {
    "key": "escalate",
    "status": "triaged",
    "requester_types": ["admin"],
    "validation": "prototype_check",
    "successful_state": "escalated",
}
SETTLE = {"key": "settle", "status": "escalated", "requester_types": ["admin"],
          "successful_state": "resolved"}  # fmt: skip


def _with_escalation(*steps: dict[str, Any]) -> Workflows:
    raw = WF.model_dump(mode="json", by_alias=True, exclude_none=True)
    raw["status_types"] = [*raw["status_types"], "escalated"]
    raw["steps"] = [*raw["steps"], *steps]
    return Workflows({"ticket": Workflow.model_validate(raw)})


def prototype_check(ctx: StepContext) -> Result:
    return Result.ok(prototyped=True)


PROTOTYPES: dict[str, Callable[..., Any]] = {"prototype_check": prototype_check}


def _engine(url: str) -> sa.Engine:
    db = sa.create_engine(url)
    return configure_sqlite(db) if db.dialect.name == "sqlite" else db


def _fill(url: str, *extra: Any, enum: bool = False) -> str:
    """Tickets t0 (draft) and t1 (triaged); the status column refuses ``escalated``."""
    db = _engine(url)
    engine = Engine(WFS, db)
    engine.install()
    status_type: Any = sa.Enum(*WF.status_types, name="ticket_status") if enum else sa.String(64)
    checks = (
        ()
        if enum
        else (
            sa.CheckConstraint(
                sa.column("status", sa.String).in_(WF.status_types), name="ck_tickets_status"
            ),
        )
    )
    columns = [sa.Column("id", sa.String(64), primary_key=True),
               sa.Column("status", status_type, nullable=False),
               sa.Column("version", sa.Integer, nullable=False, server_default="0"),
               sa.Column("title", sa.String(200))]  # fmt: skip
    sa.Table("tickets", sa.MetaData(), *columns, *checks, *extra).create(db)
    testing.insert_entity(db, WF, "t0")
    testing.insert_entity(db, WF, "t1", status="triaged")
    engine.dispose()
    db.dispose()
    return url


def _rows(url: str) -> list[tuple[Any, ...]]:
    db = _engine(url)
    try:
        with db.connect() as conn:
            tickets = conn.execute(sa.text("SELECT id, status, version FROM tickets ORDER BY id"))
            history = conn.execute(sa.text("SELECT count(*) FROM workflow_history")).scalar()
            return [*map(tuple, tickets), (history,)]
    finally:
        db.dispose()


def _source_refuses(url: str) -> None:
    db = _engine(url)
    try:
        with pytest.raises(sa.exc.DBAPIError), db.begin() as conn:
            conn.execute(sa.text("UPDATE tickets SET status = 'escalated' WHERE id = 't1'"))
    finally:
        db.dispose()


def test_prototype_status_dry_runs_before_its_migration(db_url: str) -> None:
    source = _fill(db_url)
    _source_refuses(source)
    before = _rows(source)
    dr = dry_run(source, _with_escalation(SETTLE), "ticket", "t1", "admin",
                 step=ESCALATE, use_cases=PROTOTYPES)  # fmt: skip
    assert dr.result.outcome is Outcome.TRANSITIONED, dr.why
    assert dr.changes["status"] == ("triaged", "escalated")
    [problem] = dr.problems
    assert problem.code == "WF112"
    assert "'escalated'" in problem.message
    assert "does not accept yet" in problem.message
    assert "'escalated'" in problem.message.partition("migrate it first: ")[2]
    assert "WF112" in repr(dr)
    assert "WF112" in dr._repr_html_()
    assert _rows(source) == before


def test_a_step_out_of_the_prototype_status_in_one_sandbox(db_url: str) -> None:
    source = _fill(db_url)
    before = _rows(source)
    prototype = dict(_with_escalation(ESCALATE, SETTLE).items())  # validated by the sandbox
    with pytest.raises(wfnb.ConfigError, match="WF105"):
        wfnb.sandbox.Sandbox(source, prototype)
    with wfnb.sandbox(source, prototype, use_cases=PROTOTYPES) as sb:
        into = sb.engine.execute_step("ticket", "t1", "admin", step="escalate")
        out = sb.engine.execute_step("ticket", "t1", "admin", step="settle")
        assert (into.to_status, out.to_status) == ("escalated", "resolved"), (into, out)
        assert into.metadata == {"prototyped": True}
        assert sb.rows("tickets", {"id": "t1"})[0]["status"] == "resolved"
        assert sb.shadows.widened["tickets"]["status"].accepts == set(WF.status_types)
    assert _rows(source) == before


def test_other_check_constraints_stay_and_a_store_error_is_a_failed_dry_run(db_url: str) -> None:
    source = _fill(db_url, sa.CheckConstraint("version <= 0", name="ck_tickets_frozen"))
    dr = dry_run(source, _with_escalation(SETTLE), "ticket", "t1", "admin",
                 step=ESCALATE, use_cases=PROTOTYPES)  # fmt: skip
    assert dr.result.outcome is Outcome.FAILED
    assert dr.why is not None
    assert dr.why.startswith("WF300")
    assert "ck_tickets_frozen" in dr.why
    assert "\n" not in dr.why
    assert dr.before == dr.after
    assert dr.before is not None
    assert dr.before["status"] == "triaged"


@pytest.mark.pg
def test_enum_status_column_is_widened_and_other_checks_kept(pg_url: str) -> None:
    frozen = sa.CheckConstraint("status <> 'closed' OR version > 0", name="ck_tickets_closing")
    source = _fill(pg_url, frozen, enum=True)
    _source_refuses(source)
    before = _rows(source)
    dr = dry_run(source, _with_escalation(SETTLE), "ticket", "t1", "admin",
                 step=ESCALATE, use_cases=PROTOTYPES)  # fmt: skip
    assert dr.result.outcome is Outcome.TRANSITIONED, dr.why
    assert dr.after is not None
    assert dr.after["status"] == "escalated"
    [problem] = dr.problems
    assert "ALTER TYPE" in problem.message
    assert "ADD VALUE IF NOT EXISTS 'escalated'" in problem.message
    with wfnb.sandbox(source, _with_escalation(ESCALATE, SETTLE)) as sb:
        sb.include("ticket", ["t0"])
        with pytest.raises(wfnb.StoreError), sb.engine.store.transaction() as conn:
            conn.execute(sa.text("UPDATE tickets SET status = 'closed' WHERE id = 't0'"))
    assert _rows(source) == before


@pytest.mark.pg
def test_check_migration_on_postgresql_is_one_alter_table(pg_url: str) -> None:
    source = _fill(pg_url)
    dr = dry_run(source, _with_escalation(SETTLE), "ticket", "t1", "admin",
                 step=ESCALATE, use_cases=PROTOTYPES)  # fmt: skip
    [problem] = dr.problems
    migration = problem.message.partition("migrate it first: ")[2]
    assert migration.startswith("ALTER TABLE tickets DROP CONSTRAINT ck_tickets_status, ADD")
    db = _engine(source)
    try:
        with db.begin() as conn:
            conn.execute(sa.text(migration))
    finally:
        db.dispose()
    wfnb.sandbox.hosts.close_all()
    after = dry_run(source, _with_escalation(SETTLE), "ticket", "t1", "admin",
                    step=ESCALATE, use_cases=PROTOTYPES)  # fmt: skip
    assert after.problems == ()


@pytest.mark.parametrize("entity_id", [{"id": "t1"}, ["t1"], 1.5])
def test_an_id_of_the_wrong_type_is_wf208_not_a_store_error(db_url: str, entity_id: Any) -> None:
    source = _fill(db_url)
    dr = dry_run(source, WFS, "ticket", entity_id, "admin")
    assert dr.result.outcome is Outcome.FAILED
    assert dr.result.error is not None
    assert dr.result.error.code == "WF208"
    assert dr.before is None

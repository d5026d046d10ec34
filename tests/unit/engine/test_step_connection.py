"""``ctx.conn`` cannot end the step's transaction: a use case that tries fails with WF206
and keeps nothing, on SQLite and PostgreSQL, whatever way it tries."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from tests.unit.engine.conftest import Build, history, rows, status_of
from wfnb import testing
from wfnb.engine import Outcome
from wfnb.engine.guard import ends_transaction
from wfnb.engine.usecases import Result, StepContext, batch

WRITE = "UPDATE tickets SET title = 'kept?'"

ENDINGS: dict[str, Callable[[Any], Any]] = {
    "commit": lambda conn: conn.commit(),
    "rollback": lambda conn: conn.rollback(),
    "close": lambda conn: conn.close(),
    "begin": lambda conn: conn.begin(),
    "invalidate": lambda conn: conn.invalidate(),
    "get_transaction": lambda conn: conn.get_transaction().commit(),
    "dbapi": lambda conn: conn.connection.dbapi_connection.commit(),
    "driver_sql_commit": lambda conn: conn.exec_driver_sql("COMMIT"),
    "text_commit": lambda conn: conn.execute(sa.text("commit")),
    "text_end": lambda conn: conn.execute(sa.text(" END TRANSACTION ;")),
    "text_rollback": lambda conn: conn.execute(sa.text("/* why */ rollback")),
    "scalar_commit": lambda conn: conn.scalar(sa.text("COMMIT")),
    "ddl_commit": lambda conn: conn.execute(sa.DDL("COMMIT")),
    "trailing_commit": lambda conn: conn.exec_driver_sql(f"{WRITE}; COMMIT"),
    "isolation": lambda conn: conn.execution_options(isolation_level="AUTOCOMMIT"),
}


@pytest.mark.parametrize("ending", sorted(ENDINGS))
def test_a_use_case_cannot_end_the_steps_transaction(build: Build, ending: str) -> None:
    engine, wf = build(entities=1)

    def writes_then_ends(ctx: StepContext) -> Result:
        ctx.conn.exec_driver_sql(WRITE)
        ENDINGS[ending](ctx.conn)
        return Result.ok()

    engine.use_cases.override(wf, "act", writes_then_ends)
    result = engine.execute_step("ticket", "e0", "admin")
    assert result.error is not None
    assert (result.outcome, result.error.code) == (Outcome.FAILED, "WF206")
    assert rows(engine, "SELECT title FROM tickets")[0][0] is None  # the write is gone
    assert status_of(engine, "e0") == ("draft", 0)
    assert history(engine, "e0") == []
    assert engine.execute_step("ticket", "e0", "admin").error is not None  # still usable


def test_a_refusal_the_use_case_swallows_still_fails_the_step(build: Build) -> None:
    engine, wf = build(entities=2)

    def swallows(ctx: StepContext) -> Result:
        ctx.conn.exec_driver_sql(WRITE)
        with contextlib.suppress(Exception):  # the point of the test
            ctx.conn.commit()
        return Result.ok()

    engine.use_cases.override(wf, "act", swallows)
    for result in (
        engine.execute_step("ticket", "e0", "admin"),
        *engine.execute_batch("ticket", ["e1"], "admin"),
    ):
        assert result.error is not None
        assert result.error.code == "WF206"
    assert rows(engine, "SELECT title FROM tickets") == [(None,), (None,)]


def test_a_batch_use_case_cannot_commit_either(build: Build) -> None:
    base = [dict(s) for s in testing.DEFAULT_WORKFLOW["steps"]]
    base[0].update(action="act_many")
    engine, wf = build(entities=2, steps=base)

    @batch
    def commits(contexts: list[StepContext]) -> list[Result]:
        contexts[0].conn.exec_driver_sql(WRITE)
        contexts[0].conn.exec_driver_sql("COMMIT")
        return [Result.ok() for _ in contexts]

    engine.use_cases.override(wf, "act_many", commits)
    results = engine.execute_batch("ticket", ["e0", "e1"], "admin")
    assert [r.error.code if r.error else None for r in results] == ["WF206", "WF206"]
    assert rows(engine, "SELECT title FROM tickets") == [(None,), (None,)]


def test_savepoints_and_ordinary_sql_stay_available(build: Build) -> None:
    engine, wf = build(entities=1)

    def uses_a_savepoint(ctx: StepContext) -> Result:
        with ctx.conn.begin_nested():
            ctx.conn.execute(sa.text("UPDATE tickets SET title = 'committed with the step'"))
        undone = ctx.conn.begin_nested()
        ctx.conn.exec_driver_sql("UPDATE tickets SET title = 'undone'")
        undone.rollback()
        ending = ctx.conn.scalar(sa.text("SELECT CASE WHEN 1 = 1 THEN 'end' END"))
        return Result.ok(ending=ending, dialect=ctx.conn.dialect.name)

    engine.use_cases.override(wf, "act", uses_a_savepoint)
    result = engine.execute_step("ticket", "e0", "admin")
    assert result.ok, result.error
    assert result.metadata["ending"] == "end"
    assert rows(engine, "SELECT title FROM tickets")[0][0] == "committed with the step"


@pytest.mark.parametrize(
    ("sql", "ends"),
    [
        ("COMMIT", True),
        ("commit work", True),
        ("select 1; rollback", True),
        ("-- note\nEND", True),
        ("end;", True),
        ("ABORT", True),
        ("RELEASE SAVEPOINT x", True),
        ("PREPARE TRANSACTION 'x'", True),
        ("SELECT 'commit; rollback'", False),
        ("SELECT CASE WHEN a THEN 1 END FROM t", False),
        ("DO $$ BEGIN PERFORM 1; END; $$", False),
        ("UPDATE commits SET endpoint = 'x'", False),
        ("INSERT INTO t (release) VALUES (1)", False),
    ],
)
def test_which_sql_ends_a_transaction(sql: str, ends: bool) -> None:
    assert ends_transaction(sql) is ends

"""The one SQL classifier of both guards (``wfnb.engine.sqlguard``), and ``ctx.conn`` with it:
a comment, or a quote inside a comment, no longer hides transaction control."""

from __future__ import annotations

import contextlib

import pytest
import sqlalchemy as sa

from tests.unit.engine.conftest import Build, history, rows, status_of
from wfnb.engine import Outcome
from wfnb.engine.sqlguard import transaction_control
from wfnb.engine.usecases import Result, StepContext

CONTROLS = [
    "/* ' */ COMMIT /* ' */",
    "SELECT 1 -- it's\n; COMMIT; SELECT 'x'",
    "/**/COMMIT",
    "-- a comment\nCOMMIT",
    "/**/ SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
    "SET/**/SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
    "SET TRANSACTION READ WRITE",
    "set local transaction_read_only = off",
    'SET SESSION "default_transaction_read_only" TO off',
    "RESET ALL",
    "reset default_transaction_read_only",
    "DISCARD ALL",
    "start transaction",
    "BEGIN",
    "END WORK",
    "ABORT",
    "ROLLBACK",
    "rollback work",
    "ROLLBACK PREPARED 'x'",
    "COMMIT PREPARED 'x'",
    "PREPARE TRANSACTION 'x'",
    "ATTACH DATABASE 'x.db' AS rw",
    "DETACH wfnb_src",
    "SELECT 1 # 2; COMMIT",
    "/* /* */ ' */ COMMIT; --'",  # PostgreSQL nests comments: ambiguous, refused
    "SELECT E'\\''; SELECT '\\'; COMMIT; --'",  # E-strings and plain strings: ambiguous
    'SELECT "a\\"; COMMIT; --"',
    " " * 300 + "COMMIT",  # no quote or comment: the fast path splits and reads words
    "UPDATE t SET x = 1;\n\tcommit",
]
NOT_CONTROLS = [
    "SELECT 'commit; rollback'",
    "SELECT CASE WHEN a THEN 1 END FROM t",
    "DO $$ BEGIN PERFORM 1; END; $$",
    "SELECT $x$ ; COMMIT $x$",
    "UPDATE commits SET endpoint = 'x'",
    "INSERT INTO t (release) VALUES (1)",
    "SELECT 1 /* COMMIT */",
    "SELECT 1 -- ; COMMIT",
    "ROLLBACK TO SAVEPOINT sa_savepoint_1",
    "rollback work to sa_savepoint_1",
    "SAVEPOINT x",
    "SET search_path TO x",
    "SET LOCAL statement_timeout = 5",
    "PREPARE q AS SELECT 1",
    "UPDATE t SET data = data #- '{a}'",
]


@pytest.mark.parametrize("sql", CONTROLS)
def test_the_classifier_finds_transaction_control_past_comments_and_quotes(sql: str) -> None:
    assert transaction_control(sql) is not None


@pytest.mark.parametrize("sql", NOT_CONTROLS)
def test_the_classifier_leaves_ordinary_sql_alone(sql: str) -> None:
    assert transaction_control(sql) is None


def test_release_is_allowed_only_where_savepoints_are_the_callers() -> None:
    assert transaction_control("RELEASE SAVEPOINT sa_savepoint_1") is not None
    assert transaction_control("RELEASE SAVEPOINT sa_savepoint_1", savepoints=True) is None


@pytest.mark.parametrize(
    "sql",
    ["/* ' */ COMMIT /* ' */", "SELECT 1 -- it's\n; COMMIT; SELECT 'x'"],
    ids=["quote-in-comments", "quote-in-line-comment"],
)
def test_a_quote_in_a_comment_does_not_let_a_failing_step_keep_its_writes(
    build: Build, sql: str
) -> None:
    engine, wf = build(entities=1)

    def writes_commits_then_fails(ctx: StepContext) -> Result:
        ctx.conn.execute(sa.text("UPDATE tickets SET title = 'kept?'"))
        with contextlib.suppress(Exception):
            ctx.conn.exec_driver_sql(sql)
        return Result.fail("NOPE", "the step fails")

    engine.use_cases.override(wf, "act", writes_commits_then_fails)
    result = engine.execute_step("ticket", "e0", "admin")
    assert result.outcome is Outcome.FAILED
    assert rows(engine, "SELECT title FROM tickets")[0][0] is None
    assert status_of(engine, "e0") == ("draft", 0)
    assert history(engine, "e0") == []

"""Hostile use cases in a dry-run: SQL a guard must refuse whatever its spelling, a second
way to the database through ``ctx.conn``, and SQLite's ATTACH of the source, writable."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

import wfnb.sandbox
from tests.unit.sandbox.sources import TENANTED_WFS, checksum, driver_of, fill_tenants
from wfnb.engine import Outcome
from wfnb.engine.usecases import Result, StepContext
from wfnb.sandbox import DryRun, dry_run


@pytest.fixture
def source(db_url: str) -> Iterator[str]:
    fill_tenants(db_url)
    yield db_url
    wfnb.sandbox.hosts.close_all()


def _dry(url: str, act: Any) -> DryRun:
    return dry_run(
        url,
        TENANTED_WFS,
        "ticket",
        "a1",
        "admin",
        step="resolve",
        use_cases={"act": act},
        tenant_id="acme",
    )


def test_a_dry_run_does_not_hand_out_the_engine_through_ctx_conn(source: str) -> None:
    reached: list[Any] = []

    def second_way_in(ctx: StepContext) -> Result:
        reached.append(ctx.conn.engine)
        return Result.ok()

    dr = _dry(source, second_way_in)
    assert dr.result.error is not None
    assert (dr.result.outcome, dr.result.error.code) == (Outcome.FAILED, "WF206")
    assert reached == []


@pytest.mark.parametrize(
    "sql",
    [
        "/* ' */ COMMIT /* ' */",
        "/**/ SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
        "-- a comment\nCOMMIT",
    ],
)
def test_a_commented_transaction_control_is_refused_in_a_dry_run(source: str, sql: str) -> None:
    before = checksum(source)

    def commits_then_writes(ctx: StepContext) -> Result:
        with contextlib.suppress(Exception):
            ctx.conn.execute(sa.text(sql))
        with contextlib.suppress(Exception):
            ctx.conn.execute(sa.text("UPDATE tickets SET title = 'LEAK' WHERE id = 'a1'"))
        return Result.ok()

    dr = _dry(source, commits_then_writes)
    assert dr.result.error is not None
    assert dr.result.error.code == "WF206"
    assert checksum(source) == before


def test_the_postgres_sandbox_cursor_refuses_commented_transaction_control(
    pg_url: str,
) -> None:
    import psycopg

    fill_tenants(pg_url)
    refused: list[str] = []

    def on_the_driver(ctx: StepContext) -> Result:
        cursor = driver_of(ctx).cursor()
        for sql in ("/**/COMMIT", "/* ' */ SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE"):
            try:
                cursor.execute(sql)
            except psycopg.ProgrammingError:
                refused.append(sql)
        return Result.ok()

    try:
        _dry(pg_url, on_the_driver)
    finally:
        wfnb.sandbox.hosts.close_all()
    assert len(refused) == 2


def test_a_sqlite_dry_run_cannot_attach_the_source_writable(sqlite_url: str) -> None:
    fill_tenants(sqlite_url)
    before = checksum(sqlite_url)
    errors: list[str] = []

    def attaches(ctx: StepContext) -> Result:
        driver: sqlite3.Connection = driver_of(ctx)  # past ctx.conn: the authorizer decides
        path = next(
            row[2] for row in driver.execute("PRAGMA database_list") if row[1] == "wfnb_src"
        )
        for sql in (
            f"ATTACH DATABASE '{path}' AS rw",
            "INSERT INTO rw.notes (entity_id, body) VALUES ('x', 'LEAK')",
            "UPDATE wfnb_src.tickets SET title = 'LEAK'",
            "DETACH wfnb_src",
        ):
            try:
                driver.execute(sql)
            except sqlite3.DatabaseError as exc:
                errors.append(str(exc))
        return Result.ok()

    try:
        _dry(sqlite_url, attaches)
    finally:
        wfnb.sandbox.hosts.close_all()
    assert len(errors) == 4
    assert "not authorized" in errors[0]
    assert checksum(sqlite_url) == before


def test_a_use_case_that_swallows_a_failed_statement_fails_its_dry_run_with_wf206(
    pg_url: str,
) -> None:
    fill_tenants(pg_url)

    def swallows(ctx: StepContext) -> Result:
        with contextlib.suppress(Exception):  # the source is read-only in a dry-run
            driver_of(ctx).cursor().execute("INSERT INTO notes (entity_id, body) VALUES ('x', 'y')")
        return Result.ok()

    try:
        dr = _dry(pg_url, swallows)
    finally:
        wfnb.sandbox.hosts.close_all()
    assert dr.result.error is not None
    assert (dr.result.outcome, dr.result.error.code) == (Outcome.FAILED, "WF206")

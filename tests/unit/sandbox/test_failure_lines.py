"""A failed dry-run's line names the error and the table, never the SQL or its parameters.

The issue's line carried ``[SQL: INSERT INTO notifications ...] [parameters: (...,
'member2@example.org', ...)]``: a member's e-mail in a notebook's output. A use case's
database error (WF206) now reads ``IntegrityError: <driver message> (writing table
'notes')``; the statement stays on the chained exception. Also: ``%wfnb dryrun
--tables T1,T2`` reaches ``dry_run(tables=...)``, and ``now=`` (``--now``) stamps the run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

import wfnb.sandbox
from tests.unit.sandbox.sources import NOTES, TENANTED_WFS, checksum, fill_tenants
from wfnb.engine import Outcome
from wfnb.engine.usecases import Result, StepContext
from wfnb.jupyter.parser import build_parser
from wfnb.sandbox import dry_run

EMAIL = "member2@example.org"


@pytest.fixture
def source(db_url: str) -> Iterator[str]:
    fill_tenants(db_url)
    yield db_url
    wfnb.sandbox.hosts.close_all()  # before the schema is dropped


def test_a_database_error_in_a_use_case_shows_no_sql_and_no_parameters(source: str) -> None:
    def act(ctx: StepContext) -> Result:
        # note 1 exists (copied): a duplicate key, with an e-mail among the parameters
        ctx.conn.execute(sa.insert(NOTES).values(id=1, entity_id=ctx.entity_id, body=EMAIL))
        return Result.ok()

    before = checksum(source)
    dr = dry_run(
        source,
        TENANTED_WFS,
        "ticket",
        "a1",
        "admin",
        step="resolve",
        use_cases={"act": act},
        tenant_id="acme",
        tables=("notes",),
    )
    assert dr.result.outcome is Outcome.FAILED
    assert dr.why is not None
    assert dr.why.startswith("WF206: use case 'act' raised IntegrityError: "), dr.why
    assert "(writing table 'notes')" in dr.why
    for leak in (EMAIL, "[SQL", "[parameters", "INSERT INTO", "sqlalche.me"):
        assert leak not in dr.why
    error = dr.result.error
    assert error is not None
    assert isinstance(error.__cause__, sa.exc.IntegrityError)  # the statement is kept there
    assert checksum(source) == before


def test_the_dryrun_magic_takes_tables() -> None:
    args = build_parser().parse_args(
        ["dryrun", "invoice", "inv_1", "admin", "--tables", "notifications, hub_requests"]
    )
    assert args.tables == ("notifications", "hub_requests")
    assert build_parser().parse_args(["dryrun", "invoice", "inv_1", "admin"]).tables == ()


def test_a_failed_step_s_run_record_reads_at_its_status(
    source: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The engine's line for a step that failed before any move: "at triaged", no "->None"."""

    def act(ctx: StepContext) -> Result:
        raise ValueError("boom")

    with caplog.at_level(logging.INFO, logger="wfnb.engine"):
        dr = dry_run(
            source, TENANTED_WFS, "ticket", "a1", "admin", step="resolve",
            use_cases={"act": act}, tenant_id="acme",
        )  # fmt: skip
    assert dr.result.outcome is Outcome.FAILED
    lines = [r.getMessage() for r in caplog.records if r.name == "wfnb.engine"]
    assert any("ticket:a1 resolve at triaged WF206" in line for line in lines), lines
    assert not any("->None" in line for line in lines)


def test_a_dry_run_at_a_given_moment_stamps_its_history_then(source: str) -> None:
    """``now=``: a demo that ends on 2026-11-01 is dry-run then, not at the wall clock."""
    then = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)
    dr = dry_run(
        source, TENANTED_WFS, "ticket", "a1", "admin", step="resolve", tenant_id="acme", now=then
    )
    assert dr.result.outcome is Outcome.TRANSITIONED, dr.why
    stamps = {h["changed_at"] for h in dr.history}
    assert stamps
    assert {s.replace(tzinfo=UTC) if s.tzinfo is None else s for s in stamps} == {then}
    args = build_parser().parse_args(["dryrun", "t", "a1", "admin", "--now", "2026-11-01"])
    assert args.now == datetime(2026, 11, 1, tzinfo=UTC)

"""Attacks on a PostgreSQL dry-run by a use case on a non-superuser role that may write.

The role is granted SELECT, INSERT and UPDATE on the source: only the sandbox's READ ONLY
session stands between a use case and the source, so a use case that re-opens it for
writing (``SET SESSION CHARACTERISTICS ... READ WRITE`` then ``COMMIT``, both behind a
comment) must be refused, through ``ctx.conn`` and through a driver cursor alike.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from tests.roles import login_role
from tests.unit.sandbox.sources import TENANTED_WFS, checksum, driver_of, fill_tenants
from wfnb.engine.usecases import Result, StepContext
from wfnb.sandbox import dry_run

pytestmark = pytest.mark.pg
REOPEN = (
    "/**/ SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
    "/* ' */ COMMIT /* ' */",
    "UPDATE tickets SET title = 'LEAK' WHERE id = 'b1'",
    "INSERT INTO notes (entity_id, body) VALUES ('x', 'LEAK')",
    "/**/COMMIT",
)


@pytest.fixture
def writer_role(pg_url: str) -> Iterator[str]:
    """A LOGIN role, no superuser, granted SELECT, INSERT, UPDATE on the source; its URL."""
    fill_tenants(pg_url)
    with login_role(pg_url, "wfnb_atk", "SELECT, INSERT, UPDATE", "USAGE, SELECT") as url:
        yield url


def _through_ctx_conn(ctx: StepContext, sql: str) -> None:
    ctx.conn.execute(sa.text(sql))


def _through_a_driver_cursor(ctx: StepContext, sql: str) -> None:
    driver_of(ctx).cursor().execute(sql)


@pytest.mark.parametrize("way", [_through_ctx_conn, _through_a_driver_cursor])
def test_a_commented_read_write_and_commit_do_not_write_the_source(
    pg_url: str, writer_role: str, way: Any
) -> None:
    before = checksum(pg_url)

    def reopens(ctx: StepContext) -> Result:
        for sql in REOPEN:
            with contextlib.suppress(Exception):
                way(ctx, sql)
        return Result.ok()

    dr = dry_run(
        writer_role,
        TENANTED_WFS,
        "ticket",
        "a1",
        "admin",
        step="resolve",
        use_cases={"act": reopens},
        tenant_id="acme",
    )
    assert dr.result.error is not None
    assert dr.result.error.code == "WF206"
    assert checksum(pg_url) == before

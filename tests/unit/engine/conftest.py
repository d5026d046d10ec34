"""Engines on a fresh SQLite or PostgreSQL database (``db_url``), built with ``wfnb.testing``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from tests.engines import Build, engine_builder
from wfnb import testing
from wfnb.engine import Engine


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.moment = datetime(2026, 1, 1, 12, tzinfo=UTC)

    def now(self) -> datetime:
        return self.moment

    def advance(self, delta: timedelta) -> None:
        self.moment += delta


@pytest.fixture(autouse=True)
def _fresh_calls() -> None:
    testing.reset_calls()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def build(db_url: str, clock: FakeClock) -> Iterator[Build]:
    """``build(**workflow_overrides, entities=N, engine_kw...)`` → (engine, workflow)."""
    with engine_builder(db_url, id_format="e{}", tenant_id="acme", clock=clock) as make:
        yield make


def rows(engine: Engine, sql: str, **params: Any) -> list[Any]:
    """Run a read-only query in a test (plain SQL is fine in tests)."""
    with engine.db.connect() as conn:
        return list(conn.execute(sa.text(sql), params))


def status_of(engine: Engine, entity_id: str, table: str = "tickets") -> tuple[str, int]:
    """(status, version) of one entity."""
    (row,) = rows(engine, f"SELECT status, version FROM {table} WHERE id = :i", i=entity_id)
    return row[0], row[1]


def history(engine: Engine, entity_id: str) -> list[tuple[str, str | None, str]]:
    """(kind, from_status, to_status) of an entity's history rows, in order."""
    found = rows(
        engine,
        "SELECT kind, from_status, to_status FROM workflow_history "
        "WHERE entity_id = :i ORDER BY id",
        i=entity_id,
    )
    return [(r[0], r[1], r[2]) for r in found]

"""PostgreSQL engines for the integration tests (real connections, real races, real roles)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.engines import Build, engine_builder
from wfnb import testing

PgBuild = Build


@pytest.fixture(autouse=True)
def _fresh_calls() -> None:
    testing.reset_calls()


@pytest.fixture
def pg_build(pg_url: str) -> Iterator[PgBuild]:
    """``pg_build(entities=N, status=..., **overrides)`` → (engine, workflow) on PostgreSQL."""
    with engine_builder(pg_url, id_format="e{:04d}") as make:
        yield make

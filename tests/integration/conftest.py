"""PostgreSQL engines for the integration tests (real connections, real races, real roles)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from wfnb import testing
from wfnb.engine import Engine
from wfnb.spec import Workflow

PgBuild = Callable[..., tuple[Engine, Workflow]]


@pytest.fixture(autouse=True)
def _fresh_calls() -> None:
    testing.reset_calls()


@pytest.fixture
def pg_build(pg_url: str) -> Iterator[PgBuild]:
    """``pg_build(entities=N, status=..., **overrides)`` → (engine, workflow) on PostgreSQL."""
    engines: list[Engine] = []

    def make(
        *,
        entities: int = 0,
        status: str | None = None,
        engine_kw: dict[str, Any] | None = None,
        **overrides: Any,
    ) -> tuple[Engine, Workflow]:
        wf = testing.make_workflow(**overrides)
        engine = Engine([wf], pg_url, **(engine_kw or {}))
        engines.append(engine)
        engine.install()
        testing.create_entity_table(engine.db, wf)
        if entities:
            import sqlalchemy as sa

            table = sa.Table(wf.entity.table, sa.MetaData(), autoload_with=engine.db)
            rows = [{"id": f"e{i:04d}", "status": status or wf.initial_status, "version": 0}
                    for i in range(entities)]  # fmt: skip
            with engine.db.begin() as conn:
                conn.execute(sa.insert(table), rows)
        return engine, wf

    yield make
    for engine in engines:
        engine.dispose()

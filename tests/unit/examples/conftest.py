"""Fixtures for the example domain: its workflows, a SQLite connection, hand-built contexts."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import WORKFLOWS
from wfnb.engine.usecases import Requester, StepContext
from wfnb.examples.energy import schema
from wfnb.spec import Workflow

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
FILES = ("user_registration", "sharing_group", "invoice", "billing_period")

MakeCtx = Callable[..., StepContext]


def load(name: str) -> Workflow:
    return Workflow.model_validate_json((WORKFLOWS / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def workflows() -> dict[str, Workflow]:
    return {name: load(name) for name in FILES}


@pytest.fixture
def conn(sqlite_url: str) -> Iterator[sa.Connection]:
    """A connection to a fresh SQLite file with the example schema, inside a transaction."""
    engine = sa.create_engine(sqlite_url)
    schema.create_schema(engine)
    with engine.connect() as connection, connection.begin():
        yield connection
    engine.dispose()


def entity_row(conn: sa.Connection, wf: Workflow, entity_id: str) -> Mapping[str, Any]:
    table = schema.metadata.tables[wf.entity.table]
    return dict(conn.execute(sa.select(table).where(table.c.id == entity_id)).mappings().one())


@pytest.fixture
def make_ctx(conn: sa.Connection, workflows: dict[str, Workflow]) -> MakeCtx:
    """``make_ctx(workflow, entity_id, step, *, requester="user", data=None, now=NOW)``."""

    def build(
        workflow: str,
        entity_id: str,
        step: str,
        *,
        requester: str = "user",
        data: Mapping[str, Any] | None = None,
        now: datetime = NOW,
    ) -> StepContext:
        wf = workflows[workflow]
        declared = wf.step(step)
        assert declared is not None, step
        row = entity_row(conn, wf, entity_id)
        return StepContext(
            entity=row,
            data=dict(data or {}),
            requester=Requester(requester, tenant_id=row.get("tenant_id")),
            conn=conn,
            workflow=wf,
            step=declared.for_requester(requester),
            now=now,
        )

    return build

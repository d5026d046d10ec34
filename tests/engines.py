"""Engine builders the engine and integration suites share: a workflow, its table, entities."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from wfnb import testing
from wfnb.engine import Engine
from wfnb.spec import Workflow

PARTITION_HISTORY = os.environ.get("WFNB_TEST_PARTITION_HISTORY") or None
"""Set to ``month`` to run the suites on a partitioned history (PostgreSQL; ADR 0113)."""

Build = Callable[..., tuple[Engine, Workflow]]
"""``build(entities=N, status=..., engine_kw={...}, **workflow_overrides)`` → (engine, wf)."""


@contextmanager
def engine_builder(
    url: str, *, id_format: str, tenant_id: str | None = None, **engine_defaults: Any
) -> Iterator[Build]:
    """A ``Build`` on ``url``; every engine it made is disposed at the end.

    Args:
        url: the database.
        id_format: entity ids, formatted with their index (``"e{}"``, ``"e{:04d}"``).
        tenant_id: the tenant of the entities, when the workflow has a tenant column.
        engine_defaults: keyword arguments of every ``Engine`` (a clock, say).
    """
    engines: list[Engine] = []

    def make(
        *,
        entities: int = 0,
        status: str | None = None,
        engine_kw: dict[str, Any] | None = None,
        **overrides: Any,
    ) -> tuple[Engine, Workflow]:
        wf = testing.make_workflow(**overrides)
        engine = Engine([wf], url, **{**engine_defaults, **(engine_kw or {})})
        engines.append(engine)
        postgres = engine.db.dialect.name == "postgresql"
        engine.install(partition_history=PARTITION_HISTORY if postgres else None)
        testing.create_entity_table(engine.db, wf)
        ids = [id_format.format(i) for i in range(entities)]
        testing.insert_entities(engine.db, wf, ids, status=status, tenant_id=tenant_id)
        return engine, wf

    try:
        yield make
    finally:
        for engine in engines:
            engine.dispose()

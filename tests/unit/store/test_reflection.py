"""Reflecting entity tables never needs a second connection while a thread holds one (ADR 0016).

The pools here are a single connection: a reflection that asked the pool for another one
while its own step held the only one would wait ``pool_timeout`` and fail with WF300.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from wfnb import testing
from wfnb.engine import Engine, Outcome
from wfnb.spec import Workflow
from wfnb.store import Store

POOL_TIMEOUT = 3


@pytest.fixture
def one_connection(db_url: str) -> Iterator[tuple[sa.Engine, Workflow]]:
    """A pool of exactly one connection, the workflow's table and one entity at draft."""
    wf = testing.make_workflow()
    setup = Engine([wf], db_url)
    setup.install()
    testing.create_entity_table(setup.db, wf)
    testing.insert_entities(setup.db, wf, ["e0", "e1"])
    setup.dispose()
    db = sa.create_engine(db_url, pool_size=1, max_overflow=0, pool_timeout=POOL_TIMEOUT)
    yield db, wf
    db.dispose()


def test_a_first_step_reflects_its_table_on_its_own_connection(
    one_connection: tuple[sa.Engine, Workflow],
) -> None:
    db, wf = one_connection
    engine = Engine([wf], db)  # cold: nothing reflected yet
    step = engine.execute_step("ticket", "e0", "admin", step="submit")
    batch = Engine([wf], db).execute_batch("ticket", ["e1"], "admin", step="submit")
    assert (step.outcome, step.error) == (Outcome.TRANSITIONED, None)
    assert [(r.outcome, r.error) for r in batch] == [(Outcome.TRANSITIONED, None)]


def test_a_reflection_outside_a_transaction_waits_for_its_connection_without_the_lock(
    one_connection: tuple[sa.Engine, Workflow],
) -> None:
    db, wf = one_connection
    store = Store(db)
    outside: list[object] = []
    holding = threading.Event()

    def reflect_outside() -> None:
        holding.wait()
        try:
            outside.append(store.entity_table(wf.entity))  # waits for the pool's connection
        except Exception as exc:  # noqa: BLE001  # the assertion below names it
            outside.append(exc)

    other = threading.Thread(target=reflect_outside)
    other.start()
    with store.transaction() as conn:  # the only connection
        holding.set()
        time.sleep(0.3)  # the other thread is now waiting for the pool
        inside = store.entity_table(wf.entity)  # must not wait for the other thread's lock
        assert conn.execute(sa.select(sa.func.count()).select_from(inside)).scalar_one() == 2
    other.join(POOL_TIMEOUT * 3)
    assert outside == [inside]

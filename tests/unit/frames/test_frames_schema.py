"""``frames.entities`` on a schema-qualified entity table (``"evs.things"``), both dialects.

On SQLite the schema is an attached database (``ATTACH DATABASE ... AS evs``, on every
connection of the engine); on PostgreSQL a real schema of the session database.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from wfnb import frames, testing
from wfnb.engine import Engine
from wfnb.exceptions import StoreError
from wfnb.spec import Workflow


@pytest.fixture
def evs(db_url: str, tmp_path: Path) -> Iterator[tuple[sa.Engine, Workflow]]:
    """An engine on ``db_url`` that sees a schema holding ``things``, and its workflow."""
    db = sa.create_engine(db_url)
    if db.dialect.name == "sqlite":
        schema, attached = "evs", tmp_path / "evs.db"

        @sa.event.listens_for(db, "connect")
        def attach(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute(f"ATTACH DATABASE '{attached}' AS evs")

    else:
        schema = f"evs_{uuid.uuid4().hex[:8]}"
        with db.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    wf = testing.make_workflow(entity={"table": f"{schema}.things"})
    things = sa.Table(
        "things",
        sa.MetaData(),
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("status", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="0"),
        schema=schema,
    )
    with db.begin() as conn:
        things.create(conn)
    testing.insert_entities(db, wf, ["t0", "t1", "t2"])
    try:
        yield db, wf
    finally:
        if db.dialect.name == "postgresql":
            with db.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        db.dispose()


def test_frames_entities_reads_a_schema_qualified_entity_table(
    evs: tuple[sa.Engine, Workflow],
) -> None:
    db, wf = evs
    engine = Engine([wf], db)
    engine.install()
    assert engine.execute_step("ticket", "t1", "admin", step="submit").to_status == "triaged"
    everything = frames.entities(db, wf)
    triaged = frames.entities(db, wf, status="triaged")
    assert sorted(everything["id"]) == ["t0", "t1", "t2"]
    assert dict(zip(everything["id"], everything["status"], strict=True)) == {
        "t0": "draft",
        "t1": "triaged",
        "t2": "draft",
    }
    assert list(everything["status"].cat.categories) == list(wf.status_types)
    assert list(triaged["id"]) == ["t1"]
    engine.dispose()


def test_frames_entities_names_a_missing_schema_qualified_table(
    evs: tuple[sa.Engine, Workflow],
) -> None:
    db, wf = evs
    schema = wf.entity.table.partition(".")[0]
    gone = wf.model_copy(update={"entity": wf.entity.model_copy(update={"table": f"{schema}.x"})})
    with pytest.raises(StoreError, match=f"entity table '{schema}.x' does not exist"):
        frames.entities(db, gone)

"""Source databases for the isolation tests, and a checksum of everything in one.

``checksum`` reads every table of the source (every row, in key order) and, on
PostgreSQL, every sequence of its schema: a dry-run must leave all of it as it was.
"""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa

from wfnb import testing
from wfnb.engine import Engine
from wfnb.spec import Workflow, Workflows

TENANTED = testing.make_workflow(entity={"table": "tickets", "tenant_column": "tenant_id"})
TENANTED_WFS = Workflows({"ticket": TENANTED})
SECRET = "globex-IBAN-CZ6508000000192000145399"
"""The title of globex's ticket: nothing of it may reach another tenant's dry-run."""

NOTES = sa.Table(
    "notes",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("entity_id", sa.String(64), nullable=False),
    sa.Column("body", sa.String(200), nullable=False),
)
"""A module table use cases write (an outbox with a serial id)."""


def driver_of(ctx: Any) -> Any:
    """The DB-API connection under ``ctx.conn``, past any proxy the engine hands out.

    A hostile use case is the point of these tests: the engine's ``ctx.conn`` guard
    (``wrapped``: its public way to the real connection) is not what is under test here,
    the sandbox's own defences are.
    """
    conn = getattr(ctx.conn, "wrapped", ctx.conn)
    return conn.connection.driver_connection


def fill_tenants(db: str | sa.Engine, wfs: Workflows = TENANTED_WFS) -> None:
    """acme's ticket a1 and globex's b1 (its title: ``SECRET``), each one step on."""
    wf = next(iter(wfs.values()))
    engine = Engine(wfs, db)
    engine.install()
    testing.create_entity_table(engine.db, wf)
    testing.insert_entity(engine.db, wf, "a1", tenant_id="acme", title="acme's own")
    testing.insert_entity(engine.db, wf, "b1", tenant_id="globex", title=SECRET)
    for eid, tenant in (("a1", "acme"), ("b1", "globex")):
        engine.execute_step("ticket", eid, "admin", tenant_id=tenant).raise_for_error()
    with engine.db.begin() as conn:
        NOTES.create(conn, checkfirst=True)
        conn.execute(sa.insert(NOTES), [{"entity_id": f"n{i}", "body": "old"} for i in range(3)])
    engine.dispose()


def checksum(db: str | sa.Engine) -> dict[str, Any]:
    """Every table's rows (hashed, in key order) and, on PostgreSQL, every sequence's value."""
    engine = db if isinstance(db, sa.Engine) else sa.create_engine(db)
    found: dict[str, Any] = {}
    try:
        with engine.connect() as conn:
            meta = sa.MetaData()
            meta.reflect(conn)
            for name, table in sorted(meta.tables.items()):
                order = list(table.primary_key) or list(table.columns)
                rows = conn.execute(sa.select(table).order_by(*order)).all()
                digest = hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest()
                found[name] = (len(rows), digest)
            if conn.dialect.name == "postgresql":
                names = conn.execute(
                    sa.text(
                        "SELECT sequencename FROM pg_sequences "
                        "WHERE schemaname = current_schema() ORDER BY 1"
                    )
                ).scalars()
                for seq in list(names):
                    value = conn.execute(
                        sa.text(f'SELECT last_value, is_called FROM "{seq}"')
                    ).one()
                    found[f"sequence {seq}"] = tuple(value)
    finally:
        if not isinstance(db, sa.Engine):
            engine.dispose()
    return found


def workflow_on(table: str, tenant_column: str | None = None) -> Workflow:
    """The test workflow on entity table ``table`` (schema-qualified or not)."""
    entity: dict[str, Any] = {"table": table}
    if tenant_column:
        entity["tenant_column"] = tenant_column
    return testing.make_workflow(entity=entity)

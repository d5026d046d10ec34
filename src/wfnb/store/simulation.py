"""The statements wfnb's own tooling runs: the simulator, the history replayer, the demo builder.

``wfnb.testing`` inserts its entities here too. None of them is on the engine's path. The
demo builder's manifest (what it planted, which old config it ran) is a table of its own;
everything else reads or writes the engine's tables and the users' entity tables, which
callers reflect with ``queries.reflect_entity_table``. Every statement is a named function;
a test lists them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from wfnb.spec import EntitySpec
from wfnb.store.tables import HISTORY, JSON_TYPE

__all__ = [
    "MANIFEST",
    "SIMULATION_QUERY_NAMES",
    "attach_request_metadata",
    "count_history_tagged",
    "create_manifest",
    "history_is_empty",
    "insert_entity_rows",
    "insert_manifest",
    "select_id_statuses",
    "select_manifest_details",
    "select_recorded_history",
    "select_tagged_history",
    "set_status_by_hand",
]

MANIFEST = sa.Table(
    "wfnb_demo_manifest",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("workflow", sa.String(128)),
    sa.Column("entity_id", sa.String(255)),
    sa.Column("detail", JSON_TYPE, nullable=False),
)
"""What the demo builder planted: ``build``, ``old_config`` and ``manual_update`` rows."""


def create_manifest(conn: sa.Connection) -> None:
    """Create the demo manifest table when absent."""
    MANIFEST.create(conn, checkfirst=True)


def insert_manifest(conn: sa.Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """``INSERT INTO wfnb_demo_manifest`` (one executemany)."""
    if rows:
        conn.execute(sa.insert(MANIFEST), list(rows))


def select_manifest_details(conn: sa.Connection, kind: str) -> list[Any]:
    """``SELECT detail FROM wfnb_demo_manifest WHERE kind = :kind`` (none without the table)."""
    if not sa.inspect(conn).has_table(MANIFEST.name):
        return []
    return list(conn.execute(sa.select(MANIFEST.c.detail).where(MANIFEST.c.kind == kind)).scalars())


def history_is_empty(conn: sa.Connection) -> bool:
    """Whether ``workflow_history`` is absent or holds no row (``SELECT id ... LIMIT 1``)."""
    if not sa.inspect(conn).has_table(HISTORY.name):
        return True
    return conn.execute(sa.select(HISTORY.c.id).limit(1)).first() is None


def select_id_statuses(
    conn: sa.Connection, entity: EntitySpec, table: sa.Table, but: str
) -> list[tuple[Any, str]]:
    """``SELECT id, status FROM <table> WHERE status <> :but ORDER BY id``."""
    ident, status = table.c[entity.id_column], table.c[entity.status_column]
    stmt = sa.select(ident, status).where(status != but).order_by(ident)
    return [(i, str(s)) for i, s in conn.execute(stmt)]


def set_status_by_hand(
    conn: sa.Connection, entity: EntitySpec, table: sa.Table, entity_id: Any, status: str
) -> None:
    """``UPDATE <table> SET status = :status WHERE id = :id``: no version bump, no history.

    The mark of a manual UPDATE, planted on purpose so conformance has one to find.
    """
    stmt = sa.update(table).where(table.c[entity.id_column] == entity_id)
    conn.execute(stmt.values({entity.status_column: status}))


def insert_entity_rows(
    conn: sa.Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    """``INSERT INTO <table>`` the entities a simulation creates (one executemany)."""
    if rows:
        conn.execute(sa.insert(table), list(rows))


def select_recorded_history(
    conn: sa.Connection,
    workflows: Iterable[str],
    until: datetime | None = None,
    entities: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Every history row of ``workflows`` [up to ``until``] [of ``entities``], by id.

    ::

        SELECT * FROM workflow_history WHERE workflow IN (...)
          [AND changed_at <= :until] [AND entity_id IN (...)] ORDER BY id
    """
    h = HISTORY.c
    stmt = sa.select(HISTORY).where(h.workflow.in_(sorted(workflows))).order_by(h.id)
    if until is not None:
        stmt = stmt.where(h.changed_at <= until)
    if entities is not None:
        stmt = stmt.where(h.entity_id.in_([str(e) for e in entities]))
    return [dict(r) for r in conn.execute(stmt).mappings()]


def _tagged(prefix: str) -> sa.ColumnElement[bool]:
    return HISTORY.c.correlation_id.startswith(prefix, autoescape=True)


def select_tagged_history(
    conn: sa.Connection, prefix: str, tenant_id: str | None
) -> list[sa.Row[Any]]:
    """History rows whose correlation id starts with ``prefix``, of one tenant, by id.

    ::

        SELECT id, workflow, entity_id, correlation_id, metadata FROM workflow_history
        WHERE tenant_id IS NOT DISTINCT FROM :t AND correlation_id LIKE :prefix || '%'
        ORDER BY id
    """
    h = HISTORY.c
    scope = h.tenant_id.is_(None) if tenant_id is None else h.tenant_id == tenant_id
    stmt = (
        sa.select(h.id, h.workflow, h.entity_id, h.correlation_id, h["metadata"])
        .where(scope, _tagged(prefix))
        .order_by(h.id)
    )
    return list(conn.execute(stmt))


def attach_request_metadata(conn: sa.Connection, updates: Sequence[Mapping[str, Any]]) -> None:
    """``UPDATE workflow_history SET metadata = :row_metadata WHERE id = :row_id`` (many).

    Only a simulation's own rows, right after it wrote them: what each call sent rides in
    its first history row so the run can be replayed.
    """
    if updates:
        stmt = (
            sa.update(HISTORY)
            .where(HISTORY.c.id == sa.bindparam("row_id"))
            .values({HISTORY.c["metadata"]: sa.bindparam("row_metadata")})
        )
        conn.execute(stmt, list(updates))


def count_history_tagged(conn: sa.Connection, prefix: str) -> int:
    """``SELECT count(*) FROM workflow_history WHERE correlation_id LIKE :prefix || '%'``."""
    return int(conn.execute(sa.select(sa.func.count()).where(_tagged(prefix))).scalar_one())


SIMULATION_QUERY_NAMES: tuple[str, ...] = tuple(
    n for n in __all__ if n not in {"MANIFEST", "SIMULATION_QUERY_NAMES"}
)
"""The name of every statement function here (a test compares it to the module)."""

"""The transactional outbox: its trigger, the pending read and the delivery marks (ADR 0102).

Every row inserted into ``workflow_history`` gets its ``workflow_outbox`` row from an
``AFTER INSERT`` trigger, so it is written in the same transaction as the transition by
construction, whichever engine path (step, batch, observation, timer, claim, janitor,
creation) or outside writer inserted the history row: a rolled-back step leaves neither.
The trigger copies the whole history row into ``event`` (JSONB ``to_jsonb(NEW)`` on
PostgreSQL, ``json_object`` on SQLite): delivery never reads ``workflow_history``, whose
row-level security would hide other tenants' rows from a worker that has no tenant.

On PostgreSQL the trigger function is ``SECURITY DEFINER`` (a role allowed to write history
but not the outbox still records events), created in the installing schema and following
PostgreSQL's guidance for such functions: every name it writes is schema-qualified with
that schema (``current_schema()`` at install time) and ``SET search_path = pg_catalog,
pg_temp`` puts the session's temporary schema last, so a temporary table named
``workflow_outbox`` cannot divert an event (ADR 0102). The trigger DDL is fixed text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from wfnb.store.tables import HISTORY, OUTBOX

__all__ = [
    "TRIGGER",
    "install_outbox_trigger",
    "mark_delivered",
    "mark_failed",
    "outbox_counts",
    "select_pending",
    "try_lock_delivery",
    "unlock_delivery",
]

TRIGGER = "wfnb_outbox"
"""The trigger's name on ``workflow_history`` (and, on PostgreSQL, its function's stem)."""


def _pg_function(schema: str) -> str:
    """The ``SECURITY DEFINER`` function, every name qualified with ``schema`` (quoted)."""
    return f"""
CREATE OR REPLACE FUNCTION {schema}.{TRIGGER}_record() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
    INSERT INTO {schema}.{OUTBOX.name}
        (history_id, workflow, entity_id, tenant_id, event, created_at, attempts)
    VALUES (NEW.id, NEW.workflow, NEW.entity_id, NEW.tenant_id, pg_catalog.to_jsonb(NEW),
            NEW.changed_at, 0);
    RETURN NULL;
END $$
SET search_path = pg_catalog, pg_temp
"""  # noqa: S608  # fixed text: the names are constants, the schema quoted


def _pg_trigger(schema: str) -> str:
    return (
        f"CREATE OR REPLACE TRIGGER {TRIGGER} AFTER INSERT ON {schema}.{HISTORY.name} "
        f"FOR EACH ROW EXECUTE FUNCTION {schema}.{TRIGGER}_record()"
    )


def _sqlite_trigger() -> str:
    fields = ", ".join(
        f"'{c.name}', json(NEW.{c.name})" if c.name == "metadata" else f"'{c.name}', NEW.{c.name}"
        for c in HISTORY.c
    )
    return (
        f"CREATE TRIGGER IF NOT EXISTS {TRIGGER} AFTER INSERT ON {HISTORY.name} BEGIN "  # noqa: S608
        f"INSERT INTO {OUTBOX.name} "
        "(history_id, workflow, entity_id, tenant_id, event, created_at, attempts) "
        "VALUES (NEW.id, NEW.workflow, NEW.entity_id, NEW.tenant_id, "
        f"json_object({fields}), NEW.changed_at, 0); END"
    )


def install_outbox_trigger(conn: sa.Connection) -> None:
    """(Re)create the ``AFTER INSERT`` trigger on ``workflow_history`` (idempotent)."""
    if conn.dialect.name == "postgresql":
        name = str(conn.execute(sa.text("SELECT current_schema()")).scalar_one())
        schema = conn.dialect.identifier_preparer.quote(name)
        conn.exec_driver_sql(_pg_function(schema))
        conn.exec_driver_sql(_pg_trigger(schema))
    else:
        conn.execute(sa.text(_sqlite_trigger()))


def select_pending(conn: sa.Connection, *, limit: int, after: int = 0) -> list[dict[str, Any]]:
    """The oldest undelivered outbox rows past ``after``, in history-id order.

    ``SELECT * FROM workflow_outbox WHERE delivered_at IS NULL AND history_id > :after
    ORDER BY history_id LIMIT :limit``. Per entity, history-id order is commit order: the
    compare-and-swap on the entity row serialises its transitions.
    """
    c = OUTBOX.c
    stmt = sa.select(OUTBOX).where(c.delivered_at.is_(None), c.history_id > after)
    rows = conn.execute(stmt.order_by(c.history_id).limit(limit)).mappings().all()
    return [dict(r) for r in rows]


def mark_delivered(conn: sa.Connection, history_id: int, now: datetime) -> None:
    """``UPDATE workflow_outbox SET delivered_at = :now, attempts = attempts + 1``."""
    c = OUTBOX.c
    conn.execute(
        sa.update(OUTBOX)
        .where(c.history_id == history_id)
        .values(delivered_at=now, attempts=c.attempts + 1, last_error=None)
    )


def mark_failed(conn: sa.Connection, history_id: int, error: str) -> None:
    """``UPDATE workflow_outbox SET attempts = attempts + 1, last_error = :error``."""
    c = OUTBOX.c
    conn.execute(
        sa.update(OUTBOX)
        .where(c.history_id == history_id)
        .values(attempts=c.attempts + 1, last_error=error)
    )


def outbox_counts(conn: sa.Connection) -> dict[str, int]:
    """``{"pending": n, "delivered": n}`` counted in SQL."""
    delivered = OUTBOX.c.delivered_at.is_not(None)
    stmt = sa.select(
        sa.func.count().filter(~delivered).label("pending"),
        sa.func.count().filter(delivered).label("delivered"),
    ).select_from(OUTBOX)
    row = conn.execute(stmt).one()
    return {"pending": int(row.pending or 0), "delivered": int(row.delivered or 0)}


_LOCK_KEY = sa.func.hashtext(sa.func.current_schema() + "." + OUTBOX.name)
"""The advisory lock of one schema's delivery pass."""


def try_lock_delivery(conn: sa.Connection) -> bool:
    """PostgreSQL: ``pg_try_advisory_lock`` for this schema's outbox, held by the session.

    Whether this connection now holds it (SQLite: always True; run one drain at a time).
    """
    if conn.dialect.name != "postgresql":
        return True
    got = bool(conn.execute(sa.select(sa.func.pg_try_advisory_lock(_LOCK_KEY))).scalar_one())
    conn.commit()  # the lock is the session's: no transaction stays open during the pass
    return got


def unlock_delivery(conn: sa.Connection) -> None:
    """PostgreSQL: ``pg_advisory_unlock`` of what ``try_lock_delivery`` took."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_unlock(_LOCK_KEY)))
        conn.commit()

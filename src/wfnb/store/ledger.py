"""The timer ledger: one row per dedup key ever armed on the durable queue, and its SQL.

procrastinate's ``queueing_lock`` only refuses a duplicate while the first job is still
waiting (``status = 'todo'``); the ledger remembers keys after their job ran, so a retry
or a recovery pass never arms the same entry twice. Every statement is a named function;
``wfnb.timers.durable`` is the only caller.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

__all__ = [
    "PROCRASTINATE_TABLE",
    "claim_key",
    "create_ledger",
    "ledger_keys",
    "lock_install",
    "metadata",
    "procrastinate_installed",
    "record_job_id",
    "timer_ledger",
]

PROCRASTINATE_TABLE = "procrastinate_jobs"
"""The table whose presence means procrastinate's schema is installed."""

metadata = sa.MetaData()

timer_ledger = sa.Table(
    "wfnb_timer_ledger",
    metadata,
    sa.Column("dedup_key", sa.Text, primary_key=True),
    sa.Column("workflow", sa.Text, nullable=False),
    sa.Column("entity_id", sa.Text, nullable=False),
    sa.Column("timer_key", sa.Text, nullable=False),
    sa.Column("entered_version", sa.BigInteger, nullable=False),
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("job_id", sa.BigInteger, nullable=True),
    sa.Column("armed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Index("wfnb_timer_ledger_entity_idx", "workflow", "entity_id"),
)


def lock_install(conn: sa.Connection) -> None:
    """Serialise installers of the current schema until ``conn``'s transaction ends."""
    key = sa.func.hashtext(sa.func.concat("wfnb.timers.install:", sa.func.current_schema()))
    conn.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))


def procrastinate_installed(conn: sa.Connection) -> bool:
    """Whether procrastinate's tables are visible on ``conn``'s ``search_path``."""
    return sa.inspect(conn).has_table(PROCRASTINATE_TABLE)


def create_ledger(conn: sa.Connection) -> None:
    """Create the ledger table and its index when absent."""
    metadata.create_all(conn, checkfirst=True)


def claim_key(
    conn: sa.Connection,
    *,
    dedup_key: str,
    workflow: str,
    entity_id: str,
    timer_key: str,
    entered_version: int,
    due_at: datetime,
) -> bool:
    """Insert a timer's dedup key; ``False`` when it was there already.

    Concurrent claims of one key serialise on the primary key: the second waits for
    the first transaction and then finds the row.
    """
    stmt = (
        postgresql.insert(timer_ledger)
        .values(
            dedup_key=dedup_key,
            workflow=workflow,
            entity_id=entity_id,
            timer_key=timer_key,
            entered_version=entered_version,
            due_at=due_at,
        )
        .on_conflict_do_nothing(index_elements=[timer_ledger.c.dedup_key])
        .returning(timer_ledger.c.dedup_key)
    )
    return conn.execute(stmt).first() is not None


def record_job_id(conn: sa.Connection, dedup_key: str, job_id: int) -> None:
    """Remember which procrastinate job carries ``dedup_key``."""
    conn.execute(
        sa.update(timer_ledger).where(timer_ledger.c.dedup_key == dedup_key).values(job_id=job_id)
    )


def ledger_keys(conn: sa.Connection, workflow: str, entity_id: str) -> list[str]:
    """Every dedup key ever armed for one entity, oldest first."""
    stmt = (
        sa.select(timer_ledger.c.dedup_key)
        .where(timer_ledger.c.workflow == workflow, timer_ledger.c.entity_id == entity_id)
        .order_by(timer_ledger.c.armed_at, timer_ledger.c.dedup_key)
    )
    return list(conn.execute(stmt).scalars())

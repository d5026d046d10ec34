"""The timer ledger: one row per dedup key ever armed on the durable queue, and its SQL.

procrastinate's ``queueing_lock`` only refuses a duplicate while the first job is still
waiting (``status = 'todo'``); the ledger remembers keys after their job ran, so a retry
or a recovery pass never arms the same entry twice. It also remembers whether the job
*finished* (``finished_at``, written by the worker once the runner returned): a key whose
job never finished and is no longer live (failed, or gone) may be re-armed, a bounded
number of times (ADR 0052). The recovery passes of several workers serialise on an
advisory lock taken here. Every statement is a named function; ``wfnb.timers.durable`` is
the only caller.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from wfnb.store.types import UtcDateTime

__all__ = [
    "LIVE_JOB_STATUSES",
    "PROCRASTINATE_TABLE",
    "REARMABLE_JOB_STATUS",
    "claim_key",
    "create_ledger",
    "ledger_keys",
    "ledger_state",
    "lock_install",
    "mark_finished",
    "metadata",
    "procrastinate_installed",
    "rearm_key",
    "record_job_id",
    "timer_ledger",
    "try_lock_recovery",
    "waiting_job_id",
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
    sa.Column("due_at", UtcDateTime(), nullable=False),
    sa.Column("job_id", sa.BigInteger, nullable=True),
    sa.Column("armed_at", UtcDateTime(), nullable=False, server_default=sa.func.now()),
    sa.Column("finished_at", UtcDateTime(), nullable=True),
    sa.Column("rearmed", sa.Integer, nullable=False, server_default="0"),
    sa.Index("wfnb_timer_ledger_entity_idx", "workflow", "entity_id"),
)

LIVE_JOB_STATUSES = ("todo", "doing", "aborting")
"""procrastinate statuses of a job that may still run (``aborting`` is legacy, kept safe)."""

REARMABLE_JOB_STATUS = "failed"
"""The one status of an existing job whose key may be re-armed: cancelled and aborted jobs
were stopped on purpose, and a live or succeeded one must not run twice."""

_jobs = sa.table(
    PROCRASTINATE_TABLE,
    sa.column("id", sa.BigInteger),
    sa.column("status", sa.Text),
    sa.column("queueing_lock", sa.Text),
)
"""The columns of procrastinate's jobs table the ledger reads (procrastinate owns it)."""

_ADDED_COLUMNS = {
    "finished_at": "timestamp with time zone",
    "rearmed": "integer NOT NULL DEFAULT 0",
}
"""Columns a ledger created by an older wfnb lacks (``create_ledger`` adds them)."""


def lock_install(conn: sa.Connection) -> None:
    """Serialise installers of the current schema until ``conn``'s transaction ends."""
    key = sa.func.hashtext(sa.func.concat("wfnb.timers.install:", sa.func.current_schema()))
    conn.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))


def procrastinate_installed(conn: sa.Connection) -> bool:
    """Whether procrastinate's tables are visible on ``conn``'s ``search_path``."""
    return sa.inspect(conn).has_table(PROCRASTINATE_TABLE)


def create_ledger(conn: sa.Connection) -> None:
    """Create the ledger table and its index when absent; upgrade an older ledger.

    A ledger from before ``finished_at`` existed gets the new columns, and its rows whose
    job is no longer live are marked finished: that wfnb never re-armed a key it had seen,
    and upgrading must not re-run every timer that already fired.
    """
    existing = sa.inspect(conn)
    if not existing.has_table(timer_ledger.name):
        metadata.create_all(conn, checkfirst=True)
        return
    present = {c["name"] for c in existing.get_columns(timer_ledger.name)}
    missing = [name for name in _ADDED_COLUMNS if name not in present]
    for name in missing:
        conn.execute(
            sa.text(f"ALTER TABLE {timer_ledger.name} ADD COLUMN {name} {_ADDED_COLUMNS[name]}")
        )
    if "finished_at" in missing:
        ledger = timer_ledger
        conn.execute(
            sa.update(ledger)
            .where(~_live_job(ledger.c.job_id, ledger.c.dedup_key))
            .values(finished_at=ledger.c.armed_at)
        )


def _live_job(job_id: sa.ColumnElement[Any], dedup_key: sa.ColumnElement[Any]) -> sa.Exists:
    """Whether the job ``job_id`` may still run, or a job waits with ``dedup_key`` as its lock."""
    status = sa.cast(_jobs.c.status, sa.Text)
    return sa.exists().where(
        sa.or_(
            sa.and_(_jobs.c.id == job_id, status.in_(LIVE_JOB_STATUSES)),
            sa.and_(_jobs.c.queueing_lock == dedup_key, status == "todo"),
        )
    )


def _blocking_job(job_id: sa.ColumnElement[Any], dedup_key: sa.ColumnElement[Any]) -> sa.Exists:
    """Whether a job stands in the way of re-arming ``dedup_key``.

    It does when the job ``job_id`` exists and did not fail, or a job waits with
    ``dedup_key`` as its queueing lock.
    """
    status = sa.cast(_jobs.c.status, sa.Text)
    return sa.exists().where(
        sa.or_(
            sa.and_(_jobs.c.id == job_id, status != REARMABLE_JOB_STATUS),
            sa.and_(_jobs.c.queueing_lock == dedup_key, status == "todo"),
        )
    )


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


def rearm_key(conn: sa.Connection, dedup_key: str, *, due_at: datetime, max_rearms: int) -> bool:
    """Claim again a key whose job never finished; ``False`` when it finished or may still run.

    The key is re-armed when its ledger row has no ``finished_at``, its job failed or is
    gone (a waiting, running, succeeded, cancelled or aborted one stands) and it was
    re-armed fewer than ``max_rearms`` times. The row is locked first, so two recovery
    passes re-arming one key serialise; the check is a separate statement so that, under
    READ COMMITTED, it sees the job the first pass deferred and committed meanwhile.
    """
    ledger = timer_ledger
    locked = conn.execute(
        sa.select(ledger.c.finished_at, ledger.c.rearmed)
        .where(ledger.c.dedup_key == dedup_key)
        .with_for_update()
    ).first()
    if locked is None or locked.finished_at is not None or locked.rearmed >= max_rearms:
        return False
    stmt = (
        sa.update(ledger)
        .where(ledger.c.dedup_key == dedup_key, ~_blocking_job(ledger.c.job_id, ledger.c.dedup_key))
        .values(job_id=None, due_at=due_at, rearmed=ledger.c.rearmed + 1)
        .returning(ledger.c.dedup_key)
    )
    return conn.execute(stmt).first() is not None


def waiting_job_id(conn: sa.Connection, dedup_key: str) -> int | None:
    """The id of the ``todo`` job holding ``dedup_key`` as its queueing lock, if any."""
    stmt = sa.select(_jobs.c.id).where(
        _jobs.c.queueing_lock == dedup_key, sa.cast(_jobs.c.status, sa.Text) == "todo"
    )
    found = conn.execute(stmt).scalar()
    return int(found) if found is not None else None


def mark_finished(conn: sa.Connection, dedup_key: str) -> None:
    """Record that the runner returned for ``dedup_key``'s job (whatever the step's outcome)."""
    conn.execute(
        sa.update(timer_ledger)
        .where(timer_ledger.c.dedup_key == dedup_key, timer_ledger.c.finished_at.is_(None))
        .values(finished_at=sa.func.now())
    )


def try_lock_recovery(conn: sa.Connection, queue_name: str) -> bool:
    """Take the recovery lock of ``queue_name`` in the current schema until the transaction ends.

    ``False`` when another worker's recovery pass holds it (that pass does the work).
    """
    key = sa.func.hashtext(
        sa.func.concat("wfnb.timers.recover:", sa.func.current_schema(), ":", queue_name)
    )
    return bool(conn.execute(sa.select(sa.func.pg_try_advisory_xact_lock(key))).scalar())


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


def ledger_state(conn: sa.Connection, dedup_key: str) -> dict[str, Any] | None:
    """One key's ledger row (``job_id``, ``finished_at``, ``rearmed``, ...), or ``None``."""
    row = conn.execute(sa.select(timer_ledger).where(timer_ledger.c.dedup_key == dedup_key))
    found = row.first()
    return found._asdict() if found is not None else None

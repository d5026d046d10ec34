"""PostgreSQL: ``workflow_history`` partitioned by month of ``changed_at`` (ADR 0113).

``Engine.install(partition_history="month")`` creates the history as a range-partitioned
table, its primary key ``(id, changed_at)`` (a partitioned table's unique constraints must
hold the partition key; ``id`` stays unique through its sequence), one partition per UTC
month from the current one to ``MONTHS_AHEAD`` months ahead, and a DEFAULT partition that
takes any other row, so a month nobody created never fails a write. Creating a month later
(``ensure_months``: every ``install`` does) moves that month's rows out of the default
partition first. Reads filtered on ``changed_at`` (``since``/``until``) are pruned to the
partitions they touch by PostgreSQL itself.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa

from wfnb.exceptions import WfnbUsageError
from wfnb.store.errors import wrap_errors
from wfnb.store.tables import HISTORY

__all__ = [
    "DEFAULT_PARTITION",
    "MONTHS_AHEAD",
    "PARTITION_CHOICES",
    "check_choice",
    "ensure_months",
    "install_partitioned",
    "is_partitioned",
    "month_partition",
    "partitions",
]

PARTITION_CHOICES = ("month",)
"""What ``Engine.install(partition_history=...)`` accepts."""

MONTHS_AHEAD = 3
"""Months created ahead of the current one by every ``install``."""

DEFAULT_PARTITION = f"{HISTORY.name}_default"
_STAMP = sa.DateTime(timezone=True)


def check_choice(choice: str | None, dialect: str) -> None:
    """Refuse an unknown ``partition_history`` or one on SQLite, in one coded line.

    Raises:
        WfnbUsageError: WF400.
    """
    if choice is None:
        return
    if choice not in PARTITION_CHOICES:
        raise WfnbUsageError(f"partition_history must be 'month' or None, got {choice!r}")
    if dialect != "postgresql":
        raise WfnbUsageError(
            f"partition_history={choice!r} needs PostgreSQL; {dialect} has no table partitions"
        )


def _first_of(day: date, plus: int = 0) -> date:
    months = day.year * 12 + day.month - 1 + plus
    return date(months // 12, months % 12 + 1, 1)


def month_partition(first: date) -> str:
    """The partition of the month starting ``first``: ``workflow_history_y2026m01``."""
    return f"{HISTORY.name}_y{first.year:04d}m{first.month:02d}"


def _partitioned_table() -> sa.Table:
    """``HISTORY``'s shape, keyed by ``(id, changed_at)``, partitioned by range of time."""
    md = sa.MetaData()
    table = HISTORY.to_metadata(md)
    table.dialect_options["postgresql"]["partition_by"] = "RANGE (changed_at)"
    table.c.changed_at.primary_key = True
    table.append_constraint(sa.PrimaryKeyConstraint(table.c.id, table.c.changed_at))
    table.c.id.autoincrement = True
    return table


def is_partitioned(conn: sa.Connection) -> bool | None:
    """Whether the history is partitioned (None: there is no history table yet)."""
    stmt = sa.text("SELECT c.relkind FROM pg_class c WHERE c.oid = to_regclass(:name)").bindparams(
        name=HISTORY.name
    )
    with wrap_errors("inspect workflow_history"):
        kind = conn.execute(stmt).scalar()
    return None if kind is None else kind == "p"


def partitions(conn: sa.Connection) -> list[str]:
    """The history's partitions, by name."""
    stmt = sa.text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = to_regclass(:name) ORDER BY c.relname"
    ).bindparams(name=HISTORY.name)
    with wrap_errors("list history partitions"):
        return [str(n) for n in conn.execute(stmt).scalars()]


def install_partitioned(conn: sa.Connection, today: date | None = None) -> None:
    """Create the partitioned history (if absent), its default and months ahead.

    Raises:
        WfnbUsageError: the history exists and is not partitioned (WF400): converting a
            filled table is a migration of its own (docs/scaling-history.md).
    """
    state = is_partitioned(conn)
    if state is False:
        raise WfnbUsageError(
            "workflow_history exists and is not partitioned; see docs/scaling-history.md "
            "to move its rows into a partitioned table"
        )
    if state is None:
        table = _partitioned_table()
        with wrap_errors("create the partitioned workflow_history"):
            table.create(conn)
    with wrap_errors("create the default history partition"):
        conn.exec_driver_sql(
            f'CREATE TABLE IF NOT EXISTS "{DEFAULT_PARTITION}" '
            f'PARTITION OF "{HISTORY.name}" DEFAULT'
        )
    first = _first_of(today or datetime.now(UTC).date())
    ensure_months(conn, [_first_of(first, n) for n in range(MONTHS_AHEAD + 1)])


def _move(name: str, lo: str, hi: str) -> sa.Insert:
    """The month's rows out of the default partition and into ``name``, one statement.

    ``WITH moved AS (DELETE FROM <default> WHERE <in the month> RETURNING *)
    INSERT INTO <name> SELECT * FROM moved``.
    """
    names = [c.name for c in HISTORY.c]
    default = sa.table(DEFAULT_PARTITION, *(sa.column(n) for n in names))
    month = sa.table(name, *(sa.column(n) for n in names))
    at = default.c.changed_at
    moved = (
        sa.delete(default)
        .where(at >= sa.cast(lo, _STAMP), at < sa.cast(hi, _STAMP))
        .returning(*default.c)
        .cte("moved")
    )
    return sa.insert(month).from_select(names, sa.select(*(moved.c[n] for n in names)))


def ensure_months(conn: sa.Connection, firsts: list[date]) -> list[str]:
    """Create the partitions of the months starting at ``firsts`` that do not exist.

    A month whose rows already sit in the default partition gets them moved in, in this
    transaction (the default partition is locked meanwhile).

    Returns:
        The partitions created.
    """
    made = []
    have = set(partitions(conn))
    for first in firsts:
        name = month_partition(first)
        if name in have:
            continue
        lo, hi = (
            f"{first.isoformat()} 00:00:00+00",
            f"{_first_of(first, 1).isoformat()} 00:00:00+00",
        )
        bounds = f"FOR VALUES FROM ('{lo}') TO ('{hi}')"  # dates computed here, not input
        with wrap_errors(f"create history partition {name}"):
            conn.exec_driver_sql(
                f'CREATE TABLE "{name}" (LIKE "{HISTORY.name}" INCLUDING DEFAULTS '
                "INCLUDING CONSTRAINTS)"
            )
            conn.execute(_move(name, lo, hi))
            conn.exec_driver_sql(f'ALTER TABLE "{HISTORY.name}" ATTACH PARTITION "{name}" {bounds}')
        made.append(name)
    return made

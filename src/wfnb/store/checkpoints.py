"""Incremental conformance's engine-owned tables and every statement over them.

Four tables keep what a conformance run judged, per workflow and config set (a hash of
the configs the verdicts were judged against, see ADR 0112):

- ``wfnb_conformance_checkpoint``: the last history id judged and how many rows at or
  below it were judged (a later count that differs means rows committed late, or were
  deleted: the checkpoint is then void), and the config hashes found nowhere;
- ``wfnb_conformance_verdicts``: every row-level deviation found so far;
- ``wfnb_conformance_counts``: history rows judged per config hash;
- ``wfnb_conformance_entities``: each entity's last row, last entry into a status and
  the timer steps run since, what the entity-level checks need.

``Engine.install`` creates them (they live in the engine's ``METADATA``); a conformance
run creates them too when missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from wfnb.spec import ID_LENGTH, NAME_LENGTH
from wfnb.store.errors import wrap_errors
from wfnb.store.tables import HISTORY, JSON_TYPE, METADATA

__all__ = [
    "CHECKPOINTS",
    "COUNTS",
    "ENTITIES",
    "ENTITY_COLUMNS",
    "REPLAY",
    "VERDICTS",
    "VERDICT_COLUMNS",
    "Checkpoint",
    "add_counts",
    "ensure_tables",
    "forget",
    "insert_verdicts",
    "lock",
    "read_checkpoint",
    "rows_below_changed",
    "select_counts",
    "select_verdicts",
    "upsert_entities",
    "write_checkpoint",
]

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_NAME = sa.String(NAME_LENGTH)
_SET = sa.String(64)
_STAMP = sa.DateTime(timezone=True)

CHECKPOINTS = sa.Table(
    "wfnb_conformance_checkpoint",
    METADATA,
    sa.Column("workflow", _NAME, primary_key=True),
    sa.Column("config_set", _SET, primary_key=True),
    sa.Column("last_id", _ID, nullable=False),
    sa.Column("rows", _ID, nullable=False),
    sa.Column("unknown_hashes", JSON_TYPE, nullable=False),
    sa.Column("judged_at", _STAMP, nullable=False),
)

VERDICTS = sa.Table(
    "wfnb_conformance_verdicts",
    METADATA,
    sa.Column("workflow", _NAME, primary_key=True),
    sa.Column("config_set", _SET, primary_key=True),
    sa.Column("history_id", _ID, primary_key=True),
    sa.Column("kind", sa.String(32), primary_key=True),
    sa.Column("entity_id", sa.String(ID_LENGTH), nullable=False),
    sa.Column("detail", sa.Text(), nullable=True),
    sa.Column("config_hash", sa.String(64), nullable=False),
    sa.Column("changed_at", _STAMP, nullable=True),
)

COUNTS = sa.Table(
    "wfnb_conformance_counts",
    METADATA,
    sa.Column("workflow", _NAME, primary_key=True),
    sa.Column("config_set", _SET, primary_key=True),
    sa.Column("config_hash", sa.String(64), primary_key=True),
    sa.Column("rows", _ID, nullable=False),
)

ENTITIES = sa.Table(
    "wfnb_conformance_entities",
    METADATA,
    sa.Column("workflow", _NAME, primary_key=True),
    sa.Column("config_set", _SET, primary_key=True),
    sa.Column("entity_id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("history_id", _ID, nullable=False),
    sa.Column("to_status", _NAME, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("step_key", _NAME, nullable=True),
    sa.Column("requester_type", _NAME, nullable=True),
    sa.Column("config_hash", sa.String(64), nullable=False),
    sa.Column("entry_id", _ID, nullable=True),
    sa.Column("entry_config_hash", sa.String(64), nullable=True),
    sa.Column("entry_status", _NAME, nullable=True),
    sa.Column("fired", sa.Text(), nullable=False),  # timer steps run since the entry, "\n"-joined
)

_TABLES = (CHECKPOINTS, VERDICTS, COUNTS, ENTITIES)
VERDICT_COLUMNS = ("entity_id", "history_id", "kind", "detail", "config_hash", "changed_at")
ENTITY_COLUMNS = tuple(c.name for c in ENTITIES.c if c.name not in ("workflow", "config_set"))
REPLAY = ("id", "workflow", "entity_id", "step_key", "kind", "from_status", "to_status",
          "requester_type", "source", "config_hash", "correlation_id")  # fmt: skip
Rows = tuple[list[str], list[tuple[Any, ...]]]


@dataclass(frozen=True)
class Checkpoint:
    """Where a workflow's judged history ends, for one config set."""

    last_id: int
    rows: int
    unknown: frozenset[str]


def ensure_tables(conn: sa.Connection) -> None:
    """``CREATE TABLE IF NOT EXISTS`` the four tables (a database installed before them)."""
    with wrap_errors("create the conformance tables"):
        METADATA.create_all(conn, tables=list(_TABLES), checkfirst=True)


def lock(conn: sa.Connection, workflow: str) -> None:
    """Serialise runs on ``workflow`` until the transaction ends.

    PostgreSQL: ``pg_advisory_xact_lock(hashtext('wfnb.conformance:' || workflow))``.
    SQLite's write transactions already hold the database's one write lock.
    """
    if conn.dialect.name == "postgresql":
        key = sa.func.hashtext(sa.literal(f"wfnb.conformance:{workflow}"))
        with wrap_errors("lock the conformance checkpoint"):
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))


def _mine(table: sa.Table, workflow: str, config_set: str) -> sa.ColumnElement[bool]:
    return sa.and_(table.c.workflow == workflow, table.c.config_set == config_set)


def read_checkpoint(conn: sa.Connection, workflow: str, config_set: str) -> Checkpoint | None:
    """The checkpoint of ``workflow`` under ``config_set``, if any."""
    stmt = sa.select(CHECKPOINTS.c.last_id, CHECKPOINTS.c.rows, CHECKPOINTS.c.unknown_hashes)
    with wrap_errors("read the conformance checkpoint"):
        row = conn.execute(stmt.where(_mine(CHECKPOINTS, workflow, config_set))).first()
    if row is None:
        return None
    return Checkpoint(int(row[0]), int(row[1]), frozenset(row[2]))


def rows_below_changed(conn: sa.Connection, workflow: str, point: Checkpoint) -> bool:
    """Whether rows at or below the checkpoint appeared (or went) since it was written.

    PostgreSQL hands out ids when rows are inserted, not when they commit, so a row with an
    id below the checkpoint may commit after it:
    ``SELECT count(*) FROM workflow_history WHERE workflow = :w AND id <= :last`` (an
    index-only scan) differs from the rows judged then. SQLite has one writer at a time and
    gives a row ``max(id) + 1`` inside its write transaction: ids follow commit order, so
    nothing is read there.
    """
    if conn.dialect.name != "postgresql":
        return False
    stmt = sa.select(sa.func.count()).where(
        HISTORY.c.workflow == workflow, HISTORY.c.id <= point.last_id
    )
    with wrap_errors("count judged history"):
        return int(conn.execute(stmt).scalar_one()) != point.rows


def forget(conn: sa.Connection, workflow: str) -> None:
    """Delete every verdict, count, entity and checkpoint of ``workflow`` (all config sets)."""
    with wrap_errors("reset the conformance checkpoint"):
        for table in _TABLES:
            conn.execute(sa.delete(table).where(table.c.workflow == workflow))


def write_checkpoint(
    conn: sa.Connection, workflow: str, config_set: str, point: Checkpoint, at: datetime
) -> None:
    """Replace the checkpoint of ``workflow`` under ``config_set``."""
    values = {"last_id": point.last_id, "rows": point.rows, "judged_at": at,
              "unknown_hashes": sorted(point.unknown)}  # fmt: skip
    with wrap_errors("write the conformance checkpoint"):
        conn.execute(sa.delete(CHECKPOINTS).where(_mine(CHECKPOINTS, workflow, config_set)))
        conn.execute(
            sa.insert(CHECKPOINTS), [{"workflow": workflow, "config_set": config_set, **values}]
        )


def insert_verdicts(
    conn: sa.Connection, workflow: str, config_set: str, rows: Iterable[dict[str, Any]]
) -> None:
    """Add row-level deviations (keys ``VERDICT_COLUMNS``)."""
    values = [{"workflow": workflow, "config_set": config_set, **r} for r in rows]
    if values:
        with wrap_errors("write conformance verdicts"):
            conn.execute(sa.insert(VERDICTS), values)


def select_verdicts(conn: sa.Connection, workflow: str, config_set: str) -> Rows:
    """Every row-level deviation judged for ``workflow`` under ``config_set``."""
    stmt = sa.select(*(VERDICTS.c[n] for n in VERDICT_COLUMNS)).where(
        _mine(VERDICTS, workflow, config_set)
    )
    with wrap_errors("read conformance verdicts"):
        return list(VERDICT_COLUMNS), [tuple(r) for r in conn.execute(stmt)]


def select_counts(conn: sa.Connection, workflow: str, config_set: str) -> dict[str, int]:
    """Rows judged per config hash."""
    stmt = sa.select(COUNTS.c.config_hash, COUNTS.c.rows).where(_mine(COUNTS, workflow, config_set))
    with wrap_errors("read conformance counts"):
        return {str(h): int(n) for h, n in conn.execute(stmt)}


def add_counts(conn: sa.Connection, workflow: str, config_set: str, added: dict[str, int]) -> None:
    """Add ``added`` rows per config hash to the counts."""
    if not added:
        return
    old = select_counts(conn, workflow, config_set)
    mine = _mine(COUNTS, workflow, config_set)
    values = [{"workflow": workflow, "config_set": config_set, "config_hash": h,
               "rows": old.get(h, 0) + n} for h, n in added.items()]  # fmt: skip
    with wrap_errors("write conformance counts"):
        conn.execute(sa.delete(COUNTS).where(mine, COUNTS.c.config_hash.in_(sorted(added))))
        conn.execute(sa.insert(COUNTS), values)


def upsert_entities(
    conn: sa.Connection, workflow: str, config_set: str, rows: Sequence[dict[str, Any]]
) -> None:
    """Replace the summaries of the entities in ``rows`` (keys ``ENTITY_COLUMNS``).

    ``INSERT ... ON CONFLICT (workflow, config_set, entity_id) DO UPDATE`` (both dialects).
    """
    if not rows:
        return
    insert: Any = (
        postgresql.insert(ENTITIES)
        if conn.dialect.name == "postgresql"
        else sqlite.insert(ENTITIES)
    )
    keys = ["workflow", "config_set", "entity_id"]
    stmt = insert.on_conflict_do_update(
        index_elements=keys,
        set_={c: insert.excluded[c] for c in ENTITY_COLUMNS if c not in keys},
    )
    with wrap_errors("write conformance entity summaries"):
        conn.execute(stmt, [{"workflow": workflow, "config_set": config_set, **r} for r in rows])

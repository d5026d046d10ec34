"""The engine-owned tables: history, the permanent-failure log and the outbox.

Column names are a contract (api.md). ``metadata`` is JSONB with a GIN index on
PostgreSQL and JSON on SQLite; timestamps are written by the engine's clock (never a
server default), so a virtual clock in a simulation stamps rows consistently.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from wfnb.spec import ID_LENGTH, NAME_LENGTH
from wfnb.store.types import UtcDateTime

__all__ = [
    "HISTORY",
    "HISTORY_KINDS",
    "JSON_TYPE",
    "KIND_CHECK",
    "METADATA",
    "OUTBOX",
    "PERMANENT_FAILURE_LOG",
]

METADATA = sa.MetaData()
"""Holds only the engine's own tables; users' entity tables are reflected elsewhere."""

JSON_TYPE = sa.JSON().with_variant(JSONB(), "postgresql")
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # INTEGER PRIMARY KEY = rowid
_TEXT_ID = sa.String(ID_LENGTH)
_NAME = sa.String(NAME_LENGTH)
_STAMP = UtcDateTime()

HISTORY_KINDS = (
    "initiated", "rejected", "observed", "claimed", "released", "timer", "janitor", "manual",
)  # fmt: skip
"""Every ``workflow_history.kind``; ``manual`` is written by the audit trigger (ADR 0104)."""
KIND_CHECK = "kind IN (" + ", ".join(f"'{k}'" for k in HISTORY_KINDS) + ")"
"""The text of ``ck_workflow_history_kind`` (``wfnb.store.manual`` widens older tables to it)."""

HISTORY = sa.Table(
    "workflow_history",
    METADATA,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("workflow", _NAME, nullable=False),
    sa.Column("entity_table", _NAME, nullable=False),
    sa.Column("entity_id", _TEXT_ID, nullable=False),
    sa.Column("tenant_id", _NAME, nullable=True),
    sa.Column("step_key", _NAME, nullable=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("from_status", _NAME, nullable=True),
    sa.Column("to_status", _NAME, nullable=False),
    sa.Column("requester_type", _NAME, nullable=True),
    sa.Column("user_id", _TEXT_ID, nullable=True),
    sa.Column("correlation_id", _NAME, nullable=True),
    sa.Column("source", _NAME, nullable=True),
    sa.Column("config_hash", sa.String(64), nullable=False),
    sa.Column("config_rev", _NAME, nullable=True),
    sa.Column("metadata", JSON_TYPE, nullable=False),
    sa.Column("duration_ms", sa.Float(), nullable=True),
    sa.Column("changed_at", _STAMP, nullable=False),
    # Added to api.md's columns: the entity's version after this transition. Timers use it
    # to tell "still at the status since entry" from "left and came back" (ADR 0013).
    sa.Column("entity_version", sa.Integer(), nullable=True),
    sa.CheckConstraint(KIND_CHECK, name="ck_workflow_history_kind"),
    # SQLite: never reuse the id of a deleted last row. The id is the outbox's idempotency
    # key and the incremental conformance checkpoint; a reused one would be taken as
    # already delivered or already judged (PostgreSQL's identity never goes back).
    sqlite_autoincrement=True,
)
sa.Index("ix_workflow_history_entity", HISTORY.c.workflow, HISTORY.c.entity_id, HISTORY.c.id)
sa.Index("ix_workflow_history_workflow_changed_at", HISTORY.c.workflow, HISTORY.c.changed_at)
sa.Index("ix_workflow_history_changed_at", HISTORY.c.changed_at)
sa.Index("ix_workflow_history_tenant", HISTORY.c.tenant_id)
sa.Index("ix_workflow_history_metadata", HISTORY.c["metadata"], postgresql_using="gin").ddl_if(
    dialect="postgresql"
)

PERMANENT_FAILURE_LOG = sa.Table(
    "workflow_permanent_failure_log",
    METADATA,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("workflow", _NAME, nullable=False),
    sa.Column("entity_table", _NAME, nullable=False),
    sa.Column("entity_id", _TEXT_ID, nullable=False),
    sa.Column("tenant_id", _NAME, nullable=True),
    sa.Column("status", _NAME, nullable=False),
    sa.Column("step_key", _NAME, nullable=True),
    sa.Column("error_code", sa.String(64), nullable=True),
    sa.Column("error_message", sa.Text(), nullable=True),
    sa.Column("metadata", JSON_TYPE, nullable=False),
    sa.Column("correlation_id", _NAME, nullable=True),
    sa.Column("failed_at", _STAMP, nullable=False),
)
sa.Index(
    "ix_workflow_permanent_failure_log_entity",
    PERMANENT_FAILURE_LOG.c.workflow,
    PERMANENT_FAILURE_LOG.c.entity_id,
)
sa.Index("ix_workflow_permanent_failure_log_failed_at", PERMANENT_FAILURE_LOG.c.failed_at)
sa.Index("ix_workflow_permanent_failure_log_tenant", PERMANENT_FAILURE_LOG.c.tenant_id)

OUTBOX = sa.Table(
    "workflow_outbox",
    METADATA,
    # The history row's id: the event's idempotency key, and (per entity) its commit order.
    sa.Column("history_id", sa.BigInteger(), primary_key=True, autoincrement=False),
    sa.Column("workflow", _NAME, nullable=False),
    sa.Column("entity_id", _TEXT_ID, nullable=False),
    sa.Column("tenant_id", _NAME, nullable=True),
    sa.Column("event", JSON_TYPE, nullable=False),  # the history row as written
    sa.Column("created_at", _STAMP, nullable=False),  # the history row's changed_at
    sa.Column("delivered_at", _STAMP, nullable=True),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("last_error", sa.Text(), nullable=True),
)
"""One row per ``workflow_history`` row, written by a trigger in the same transaction
(``wfnb.store.outbox``, ADR 0102); delivered rows keep their ``delivered_at``."""
sa.Index("ix_workflow_outbox_pending", OUTBOX.c.delivered_at, OUTBOX.c.history_id)

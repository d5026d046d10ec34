"""The audit trigger: a status change made outside the engine becomes a ``manual`` history row.

``install_audit_trigger`` puts, on a workflow's entity table, an ``AFTER UPDATE OF
<status>`` trigger that writes a ``workflow_history`` row of kind ``manual`` whenever the
status changes in a transaction the engine did not mark as its own (a support engineer's
``UPDATE`` in psql or sqlite3). The engine marks its transactions (``mark_engine``):

- PostgreSQL: ``set_config('wfnb.writer', 'engine', true)``, transaction-local, sent in the
  same statement as the ``app.*`` settings of the request context (``set_context``); the
  trigger's ``WHEN`` reads it, so an engine write never even calls the trigger function.
  The row records ``current_user`` (``source`` and ``metadata.db_role``), ``session_user``,
  ``application_name`` and the ``app.*`` settings present (``AUDIT_SETTINGS``).
- SQLite: a row in ``workflow_engine_writing``, inserted when the engine's write
  transaction begins and deleted before it commits, so it is never committed and no other
  connection ever sees it (SQLite has one writer at a time). A trigger cannot read a
  connection's TEMP tables nor its session state, and SQLite has no roles: a manual row
  there carries no role and no settings (a stated limit, ADR 0104).

Installing is idempotent (``CREATE OR REPLACE`` / ``DROP TRIGGER IF EXISTS`` + ``CREATE``)
and widens an older ``ck_workflow_history_kind`` that predates ``manual``.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from wfnb.exceptions import InvalidPayloadError
from wfnb.store.manual_ddl import (
    AUDIT_SETTINGS,
    ENGINE_SETTING,
    MARKER_TABLE,
    Audited,
    pg_function,
    pg_trigger,
    sqlite_trigger,
)
from wfnb.store.tables import HISTORY, HISTORY_KINDS, KIND_CHECK

__all__ = [
    "AUDIT_SETTINGS",
    "ENGINE_SETTING",
    "MANUAL_QUERY_NAMES",
    "MARKER_TABLE",
    "Audited",
    "MarkerCache",
    "install_audit_trigger",
    "mark_engine",
    "set_context",
    "unmark_engine",
    "widen_history_kinds",
]

_INSERT_MARK = "INSERT OR IGNORE INTO workflow_engine_writing (writer) VALUES (1)"
_DELETE_MARK = "DELETE FROM workflow_engine_writing"
_CHECK = "ck_workflow_history_kind"


@lru_cache(maxsize=64)
def _set_context_statement(names: tuple[str, ...]) -> sa.Select[Any]:
    """``SELECT set_config(:n1, :v1, true), ...``: one statement for every setting."""
    calls = [
        sa.func.set_config(sa.bindparam(f"n{i}"), sa.bindparam(f"v{i}"), sa.true())
        for i in range(len(names))
    ]
    return sa.select(*calls)


def set_context(conn: sa.Connection, settings: Mapping[str, str | None]) -> None:
    """PostgreSQL: ``SELECT set_config('app.user_id', :u, true), ...`` in one round trip.

    Every setting is transaction-local; None is set as ``''`` (unset, as for the tenant).
    A value holding a NUL character (PostgreSQL cannot take one) is ``InvalidPayloadError``
    (WF208).
    """
    names = tuple(settings)
    params: dict[str, Any] = {}
    for i, name in enumerate(names):
        value, field = settings[name], name.removeprefix("app.")
        if value is not None and not isinstance(value, str):
            raise InvalidPayloadError(
                f"{field} must be text, not {type(value).__name__}", field=field
            )
        if value is not None and "\x00" in value:
            raise InvalidPayloadError(f"{field} holds a NUL character", field=field)
        params[f"n{i}"], params[f"v{i}"] = name, value or ""
    conn.execute(_set_context_statement(names), params)


class MarkerCache:
    """SQLite: whether ``workflow_engine_writing`` exists, re-read when the schema changes.

    ``PRAGMA schema_version`` changes with every schema change in any connection, so an
    audit trigger installed by another process is seen by the next engine transaction.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: tuple[int, bool] = (-1, False)

    def present(self, conn: sa.Connection) -> bool:
        """Whether the marker table exists (one ``PRAGMA`` when the schema did not change)."""
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            version = int(cursor.execute("PRAGMA schema_version").fetchone()[0])
            seen = self._seen
            if seen[0] == version:
                return seen[1]
            found = cursor.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (MARKER_TABLE,)
            ).fetchone()
        finally:
            cursor.close()
        with self._lock:
            self._seen = (version, found is not None)
        return found is not None


def mark_engine(conn: sa.Connection) -> None:
    """SQLite: ``INSERT OR IGNORE INTO workflow_engine_writing VALUES (1)`` (never committed)."""
    conn.exec_driver_sql(_INSERT_MARK)


def unmark_engine(conn: sa.Connection) -> None:
    """SQLite: ``DELETE FROM workflow_engine_writing`` before the engine's transaction commits."""
    conn.exec_driver_sql(_DELETE_MARK)


def widen_history_kinds(conn: sa.Connection) -> bool:
    """Make an older ``ck_workflow_history_kind`` accept every kind (``manual``); idempotent.

    PostgreSQL: ``ALTER TABLE workflow_history DROP CONSTRAINT ck, ADD CONSTRAINT ck CHECK
    (kind IN (...))``. SQLite cannot alter a CHECK; the table's SQL in ``sqlite_master`` is
    rewritten under ``PRAGMA writable_schema`` (SQLite's documented way of relaxing a
    constraint: the stored rows do not change), and ``schema_version`` bumped.

    Returns:
        Whether the constraint had to be widened.
    """
    history = HISTORY.name
    if conn.dialect.name == "postgresql":
        found = conn.execute(
            sa.text(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conname = :c AND conrelid = to_regclass(:t)"
            ),
            {"c": _CHECK, "t": history},
        ).scalar()
        if found is None or all(f"'{k}'" in found for k in HISTORY_KINDS):
            return False
        conn.execute(
            sa.text(
                f"ALTER TABLE {history} DROP CONSTRAINT {_CHECK}, "
                f"ADD CONSTRAINT {_CHECK} CHECK ({KIND_CHECK})"
            )
        )
        return True
    sql = str(
        conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (history,)
        ).scalar()
        or ""
    )
    start = sql.find(f"CONSTRAINT {_CHECK} CHECK (")
    if start < 0 or all(f"'{k}'" in sql[start:] for k in HISTORY_KINDS):
        return False
    head = f"CONSTRAINT {_CHECK} CHECK ("
    end = sql.index("))", start) + 1  # the CHECK's closing parenthesis
    widened = sql[:start] + head + KIND_CHECK + ")" + sql[end + 1 :]
    version = int(conn.exec_driver_sql("PRAGMA schema_version").scalar() or 0)
    conn.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        conn.exec_driver_sql(
            "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
            (widened, history),
        )
        conn.exec_driver_sql(f"PRAGMA schema_version = {version + 1:d}")
    finally:
        conn.exec_driver_sql("PRAGMA writable_schema = OFF")
    return True


def install_audit_trigger(conn: sa.Connection, audited: Sequence[Audited]) -> None:
    """Create (or replace) the audit trigger of each workflow's entity table; idempotent.

    PostgreSQL: ``CREATE OR REPLACE FUNCTION wfnb_record_manual()`` in the schema holding
    ``workflow_history``, then per workflow ``DROP TRIGGER IF EXISTS`` + ``CREATE TRIGGER
    wfnb_manual_<workflow> AFTER UPDATE OF <status> ON <table> FOR EACH ROW WHEN (OLD.status
    IS DISTINCT FROM NEW.status AND current_setting('wfnb.writer', true) IS DISTINCT FROM
    'engine') EXECUTE FUNCTION wfnb_record_manual(<workflow>, <columns>, <config>)``.
    SQLite: ``CREATE TABLE IF NOT EXISTS workflow_engine_writing``, then per workflow the
    same trigger with its INSERT spelled out and ``WHEN ... AND NOT EXISTS (SELECT 1 FROM
    workflow_engine_writing)``. The history kind CHECK is widened first (``manual``).
    """
    widen_history_kinds(conn)
    if conn.dialect.name == "postgresql":
        schema = str(conn.execute(sa.text("SELECT current_schema()")).scalar())
        history = f"{conn.dialect.identifier_preparer.quote(schema)}.{HISTORY.name}"
        conn.exec_driver_sql(pg_function(history))
        statements = [s for a in audited for s in pg_trigger(conn, a, schema)]
    else:
        conn.exec_driver_sql(
            f"CREATE TABLE IF NOT EXISTS {MARKER_TABLE} (writer INTEGER PRIMARY KEY)"
        )
        conn.exec_driver_sql(_DELETE_MARK)
        statements = [s for a in audited for s in sqlite_trigger(conn, a)]
    for statement in statements:
        conn.exec_driver_sql(statement)


MANUAL_QUERY_NAMES: tuple[str, ...] = (
    "install_audit_trigger",
    "mark_engine",
    "set_context",
    "unmark_engine",
    "widen_history_kinds",
)
"""The name of every statement function here, in one list."""

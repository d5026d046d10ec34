"""``Store``: the engine's one handle on the database (connections, transactions, caches).

It turns a URL into a configured SQLAlchemy engine (SQLite gets foreign keys, a busy
timeout, WAL and ``BEGIN IMMEDIATE`` write transactions so threads never deadlock on a
lock upgrade), installs the engine-owned tables, reflects the users' entity tables once
per engine, and opens transactions that set the tenant on PostgreSQL. Every driver error
leaving it is a ``StoreError``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from wfnb.spec import EntitySpec
from wfnb.store import partitions, queries
from wfnb.store.errors import wrap_errors
from wfnb.store.tables import HISTORY, PERMANENT_FAILURE_LOG

__all__ = ["READONLY", "Store", "configure_sqlite", "make_engine"]

READONLY = "wfnb_readonly"
"""Execution option: a transaction that only reads (SQLite then uses a deferred BEGIN)."""

BUSY_TIMEOUT_MS = 30_000


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take BEGIN away from the sqlite3 module so SAVEPOINT works and we choose the lock mode.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS:d}")
        cursor.execute("PRAGMA journal_mode = WAL")
    finally:
        cursor.close()


def _on_begin(conn: sa.Connection) -> None:
    # IMMEDIATE takes the write lock up front: no deadlock on a read-to-write upgrade.
    readonly = conn.get_execution_options().get(READONLY, False)
    conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


def configure_sqlite(engine: sa.Engine) -> sa.Engine:
    """Attach the SQLite connection setup to ``engine`` (once; a no-op for other dialects)."""
    if engine.dialect.name == "sqlite" and not event.contains(engine, "connect", _on_connect):
        event.listen(engine, "connect", _on_connect)
        event.listen(engine, "begin", _on_begin)
        engine.dispose()  # pooled connections predate the setup
    return engine


def make_engine(db: sa.Engine | str | sa.URL) -> sa.Engine:
    """A SQLAlchemy engine for ``db`` (``postgresql://`` means psycopg 3), SQLite configured."""
    if isinstance(db, sa.Engine):
        return configure_sqlite(db)
    url = sa.make_url(db)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    with wrap_errors("create engine"):
        return configure_sqlite(sa.create_engine(url))


class Store:
    """Connections, transactions and table caches for one database."""

    def __init__(self, db: sa.Engine | str | sa.URL) -> None:
        self.engine = make_engine(db)
        self._owns_engine = not isinstance(db, sa.Engine)  # a caller's engine stays theirs
        self.is_postgres = self.engine.dialect.name == "postgresql"
        self._tables: dict[str, sa.Table] = {}
        self._lock = threading.Lock()
        self._open = threading.local()  # .conn: this thread's open transaction, if any

    def install(self, *, partition_history: str | None = None) -> None:
        """Create the engine-owned tables and indexes; on PostgreSQL, their RLS policies.

        ``partition_history="month"`` (PostgreSQL only) makes ``workflow_history`` a table
        partitioned by month, and creates the months ahead (``wfnb.store.partitions``).
        """
        partitions.check_choice(partition_history, self.engine.dialect.name)
        with self.transaction() as conn:
            if partition_history is not None:
                partitions.install_partitioned(conn)
            queries.create_engine_tables(conn)
            if self.is_postgres:
                for table in (HISTORY, PERMANENT_FAILURE_LOG):
                    queries.enable_row_level_security(conn, table)

    def entity_table(self, entity: EntitySpec) -> sa.Table:
        """The user's entity table, reflected on first use and cached for this store.

        Reflection never needs a second connection while this thread holds one: inside a
        transaction of this store it runs on that transaction's connection; outside one it
        takes its connection BEFORE the reflection lock. So no thread ever waits for the
        pool while holding the lock, and a burst of first calls on a new engine cannot
        stall on a pool its own threads exhausted (ADR 0016).
        """
        table = self._tables.get(entity.table)
        if table is not None:
            return table
        conn: sa.Connection | None = getattr(self._open, "conn", None)
        if conn is not None:
            return self._reflect(conn, entity.table)
        with self.transaction(readonly=True) as own:
            return self._reflect(own, entity.table)

    def _reflect(self, conn: sa.Connection, name: str) -> sa.Table:
        """Reflect ``name`` on ``conn`` once (the lock is taken with a connection in hand)."""
        with self._lock:
            table = self._tables.get(name)
            if table is None:
                with wrap_errors("reflect"):
                    table = queries.reflect_entity_table(conn, name)
                self._tables[name] = table
            return table

    def use_table(self, name: str, table: sa.Table) -> None:
        """Serve entity table ``name`` as ``table``, never reflecting it (a sandbox's shadow)."""
        with self._lock:
            self._tables[name] = table

    def forget_tables(self) -> None:
        """Drop the reflection cache (after the users' tables change shape)."""
        with self._lock:
            self._tables.clear()

    @contextmanager
    def transaction(
        self, tenant_id: str | None = None, *, readonly: bool = False
    ) -> Iterator[sa.Connection]:
        """One transaction: commit on success, rollback on any exception.

        Args:
            tenant_id: on PostgreSQL, set as ``app.tenant_id`` for this transaction.
            readonly: the transaction only reads (SQLite then takes no write lock).
        """
        with wrap_errors("transaction"):
            conn = self.engine.connect()
            outer = getattr(self._open, "conn", None)
            try:
                if readonly:
                    conn = conn.execution_options(**{READONLY: True})
                with conn.begin():
                    if tenant_id is not None:
                        self.set_tenant(conn, tenant_id)
                    self._open.conn = conn
                    yield conn
            finally:
                self._open.conn = outer
                conn.close()

    def set_tenant(self, conn: sa.Connection, tenant_id: str) -> None:
        """Scope the rest of the transaction to ``tenant_id`` (PostgreSQL RLS; else no-op)."""
        if self.is_postgres:
            with wrap_errors("set tenant"):
                queries.set_tenant(conn, tenant_id)

    def dispose(self) -> None:
        """Close pooled connections of an engine this store made (a caller's pool is left alone)."""
        if self._owns_engine:
            self.engine.dispose()

"""``Store``: the engine's one handle on the database (connections, transactions, caches).

It turns a URL into a configured SQLAlchemy engine (SQLite gets foreign keys, a busy
timeout, WAL and ``BEGIN IMMEDIATE`` write transactions so threads never deadlock on a
lock upgrade), installs the engine-owned tables, reflects the users' entity tables once
per engine, and opens transactions that set the tenant on PostgreSQL. Every driver error
leaving it is a ``StoreError``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from wfnb.spec import EntitySpec
from wfnb.store import manual, outbox, partitions, queries
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
        self._marker = manual.MarkerCache()  # SQLite: is an audit trigger installed?

    def install(self, *, partition_history: str | None = None) -> None:
        """Create the engine-owned tables, indexes and outbox trigger; PostgreSQL: RLS policies.

        ``partition_history="month"`` (PostgreSQL only) makes ``workflow_history`` a table
        partitioned by month, and creates the months ahead (``wfnb.store.partitions``).
        """
        partitions.check_choice(partition_history, self.engine.dialect.name)
        with self.transaction() as conn:
            if self.is_postgres:  # workers starting together: one installs at a time
                # (concurrent CREATE OR REPLACE FUNCTION fails: "tuple concurrently updated")
                key = sa.func.hashtext("wfnb.install")
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))
            if partition_history is not None:
                partitions.install_partitioned(conn)
            queries.create_engine_tables(conn)
            outbox.install_outbox_trigger(conn)
            if self.is_postgres:
                for table in (HISTORY, PERMANENT_FAILURE_LOG):
                    queries.enable_row_level_security(conn, table)

    def install_audit_trigger(self, audited: Sequence[manual.Audited]) -> None:
        """Install the audit trigger on each workflow's entity table (idempotent, ADR 0104)."""
        with self.transaction() as conn:
            manual.install_audit_trigger(conn, audited)

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
        self,
        tenant_id: str | None = None,
        *,
        readonly: bool = False,
        context: Mapping[str, str | None] | None = None,
    ) -> Iterator[sa.Connection]:
        """One transaction: commit on success, rollback on any exception.

        Args:
            tenant_id: on PostgreSQL, set as ``app.tenant_id`` for this transaction.
            readonly: the transaction only reads (SQLite then takes no write lock).
            context: the engine's own transaction, with its request context
                (``user_id``, ``correlation_id``, ``requester_type``): on PostgreSQL set as
                ``app.*`` beside ``app.tenant_id`` in one statement, with the mark the
                audit trigger skips (``wfnb.writer``); on SQLite, when an audit trigger is
                installed, the marker row it skips (ADR 0104).
        """
        with wrap_errors("transaction"):
            conn = self.engine.connect()
            outer = getattr(self._open, "conn", None)
            try:
                if readonly:
                    conn = conn.execution_options(**{READONLY: True})
                outer_written = getattr(self._open, "written", None)
                self._open.written = []
                with conn.begin():
                    marked = False
                    if context is not None:
                        marked = self._mark(conn, tenant_id, context)
                    elif tenant_id is not None:
                        self.set_tenant(conn, tenant_id)
                    self._open.conn = conn
                    yield conn
                    if marked:
                        manual.unmark_engine(conn)
                self._committed().extend(self._open.written)  # reached only on commit
            finally:
                self._open.conn = outer
                self._open.written = outer_written
                conn.close()

    def _mark(
        self, conn: sa.Connection, tenant_id: str | None, context: Mapping[str, str | None]
    ) -> bool:
        """Mark an engine transaction; True when a marker row must go before the commit."""
        if self.is_postgres:
            settings = {f"app.{k}": v for k, v in context.items()}
            if tenant_id is not None:
                settings["app.tenant_id"] = tenant_id
            settings[manual.ENGINE_SETTING] = "engine"
            manual.set_context(conn, settings)
            return False
        if conn.get_execution_options().get(READONLY, False) or not self._marker.present(conn):
            return False
        manual.mark_engine(conn)
        return True

    def note_written(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Remember history rows (with their ``id``) the open transaction of this thread wrote.

        They become ``take_committed``'s once that transaction commits; a rollback drops them.
        """
        written = getattr(self._open, "written", None)
        if written is not None:
            written.extend(rows)

    def take_committed(self) -> list[Mapping[str, Any]]:
        """The history rows this thread's committed transactions wrote since the last call."""
        committed = self._committed()
        taken = list(committed)
        committed.clear()
        return taken

    def _committed(self) -> list[Mapping[str, Any]]:
        committed: list[Mapping[str, Any]] | None = getattr(self._open, "committed", None)
        if committed is None:
            committed = self._open.committed = []
        return committed

    def set_tenant(self, conn: sa.Connection, tenant_id: str) -> None:
        """Scope the rest of the transaction to ``tenant_id`` (PostgreSQL RLS; else no-op)."""
        if self.is_postgres:
            with wrap_errors("set tenant"):
                queries.set_tenant(conn, tenant_id)

    def dispose(self) -> None:
        """Close pooled connections of an engine this store made (a caller's pool is left alone)."""
        if self._owns_engine:
            self.engine.dispose()

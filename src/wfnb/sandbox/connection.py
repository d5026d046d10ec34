"""The sandbox's one database connection, per dialect, wrapped as a SQLAlchemy ``Engine``.

SQLite: a private in-memory database with the source file ATTACHed read-only (``mode=ro``)
as ``wfnb_src`` (and the databases the source engine attaches, read-only, under their own
names); unqualified names find the in-memory shadows first, then the source. An
authorizer refuses any later ATTACH or DETACH (the file attached again would be writable).
PostgreSQL: one session whose outer transaction is never committed; every transaction
the engine's store opens becomes a SAVEPOINT inside it, and closing the sandbox rolls the
whole session back. After set-up every transaction of the session is READ ONLY, which
PostgreSQL enforces on every table but temporary ones (the shadows): the source cannot
be written, nor its sequences advanced, even by a use case that ends the transaction
with a raw ``COMMIT``; and cursors refuse transaction control (``wfnb.engine.sqlguard``).
See docs/adr/0061-sandbox-isolation.md and 0063.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.pool import StaticPool

from wfnb.engine.guard import sandboxed
from wfnb.engine.sqlguard import transaction_control
from wfnb.exceptions import WfnbUsageError
from wfnb.store import configure_sqlite
from wfnb.store.database import READONLY
from wfnb.store.errors import wrap_errors

__all__ = ["PLAIN", "SOURCE_SCHEMA", "Isolated", "isolate"]

SOURCE_SCHEMA = "wfnb_src"
"""The name the read-only source database is ATTACHed under (SQLite)."""
_SAVEPOINT = "wfnb_sandbox"
_READ_ONLY_SESSION = "RESET ALL; SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"
PLAIN = "wfnb_sandbox_plain"
"""Execution option: a sandbox-internal write that needs no savepoint of its own."""


@dataclass(frozen=True, slots=True)
class Isolated:
    """A sandbox connection: the engine on it, where the source is, where shadows go."""

    engine: sa.Engine
    source_schema: str | None
    shadow_schema: str | None
    close: Callable[[], None]
    settle: Callable[[], None]
    """Keep what was set up so far (PostgreSQL: commit the empty temp tables)."""
    rollback: Callable[[str], bool] | None
    """Undo everything since ``settle`` (PostgreSQL), then run the given ``SELECT`` of one
    boolean ("a shadow still holds rows") and return it; None: clear the shadows instead."""
    unwind: Callable[[], None] = field(default=lambda: None)
    """End whatever transaction a use case left open (SQLite), before a reset."""
    aliases: Mapping[str, str] = field(default_factory=dict)
    """A schema as workflows spell it → as the sandbox reads it (SQLite: main → wfnb_src)."""


def _url(db: sa.Engine | str | sa.URL) -> sa.URL:
    url = db.url if isinstance(db, sa.Engine) else sa.make_url(db)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url


def isolate(db: sa.Engine | str | sa.URL) -> Isolated:
    """Open a sandbox connection next to ``db`` (never a write to it)."""
    url = _url(db)
    backend = url.get_backend_name()
    if backend == "sqlite":
        return _sqlite(url, _attached(db) if isinstance(db, sa.Engine) else {})
    if backend == "postgresql":
        return _postgres(url)
    raise WfnbUsageError(f"sandboxes support SQLite and PostgreSQL, not {backend!r}")


def _attached(db: sa.Engine) -> dict[str, str]:
    """The files a SQLite engine's connections ATTACH, by schema name (``evs.things``)."""
    with wrap_errors("open sandbox"), db.connect() as conn:
        rows = conn.exec_driver_sql("PRAGMA database_list").all()
    return {
        str(name): str(path)
        for _, name, path in rows
        if name not in ("main", "temp", SOURCE_SCHEMA) and path
    }


def _sqlite(url: sa.URL, attached: Mapping[str, str]) -> Isolated:
    path = url.database
    if not path or path == ":memory:" or path.startswith("file:"):
        raise WfnbUsageError("a SQLite sandbox needs a database file to read from")
    source = Path(path).resolve()
    if not source.is_file():
        raise WfnbUsageError(f"no SQLite database at {source}")
    readonly = f"{source.as_uri()}?mode=ro"

    others = {name: f"{Path(path).resolve().as_uri()}?mode=ro" for name, path in attached.items()}

    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect("file::memory:", uri=True, check_same_thread=False)
        conn.execute("ATTACH DATABASE ? AS " + SOURCE_SCHEMA, (readonly,))
        for name, uri in others.items():
            conn.execute('ATTACH DATABASE ? AS "' + name.replace('"', '""') + '"', (uri,))
        conn.set_authorizer(_no_attach)
        return conn

    with wrap_errors("open sandbox"):
        engine = configure_sqlite(
            sa.create_engine("sqlite://", creator=connect, poolclass=StaticPool)
        )
        event.listen(engine, "connect", _no_foreign_keys)
        engine.dispose()
        sandboxed(engine)

    def unwind() -> None:
        raw = engine.raw_connection()
        try:
            if raw.driver_connection.in_transaction:  # type: ignore[union-attr]
                raw.driver_connection.rollback()  # type: ignore[union-attr]
        finally:
            raw.close()

    return Isolated(
        engine,
        SOURCE_SCHEMA,
        None,
        engine.dispose,
        _nothing,
        None,
        unwind=unwind,
        aliases={"main": SOURCE_SCHEMA},
    )


def _no_attach(action: int, _a: str | None, _b: str | None, _db: str | None, _t: Any) -> int:
    """A SQLite authorizer: no ATTACH or DETACH once the sandbox's own attachments are made.

    The sources are attached ``mode=ro``: SQLite refuses any write to them ("attempt to
    write a readonly database", which the sandbox reads as "shadow this table"). The one
    way past that is attaching the same file again, writable, under another name.
    """
    if action in (sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH):
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def _nothing() -> None:
    """SQLite: setting up needs no commit beyond the store's own."""


def _no_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    # Shadow rows reference parents that stay in the read-only source: SQLite cannot
    # enforce a foreign key across databases, so the sandbox does not try.
    dbapi_connection.execute("PRAGMA foreign_keys = OFF")


@cache
def _savepoint_connection_class() -> type[Any]:
    """A ``psycopg.Connection`` whose commit/rollback act on a savepoint, never the session.

    SQLAlchemy's ``begin`` opens the savepoint (listener below); ``commit`` releases it;
    ``rollback`` rolls back to it. Outside a savepoint both are no-ops, so the pool's
    reset-on-return cannot end the outer transaction, and ``close`` is left to the sandbox.
    (A subclass, not a wrapper: psycopg's type lookups insist on a real ``Connection``.)

    A release is deferred: it rides along with the next ``SAVEPOINT`` (one round trip for
    both, in a single simple-protocol query) or is made moot by ``reset``. A released
    savepoint changes nothing a later statement sees, so only the round trip is saved; at
    most one savepoint is ever outstanding.
    """
    import psycopg  # noqa: PLC0415  # psycopg is the optional "pg" extra

    def refuse(query: Any) -> None:
        text = query.decode(errors="replace") if isinstance(query, bytes) else query
        if isinstance(text, str) and (found := transaction_control(text, savepoints=True)):
            raise psycopg.ProgrammingError(
                f"a sandbox refuses transaction control from a use case "
                f"({found!r}): the dry-run's transaction is the engine's"
            )

    class GuardedCursor(psycopg.Cursor[Any]):
        """The cursors everything but the sandbox itself gets (SQLAlchemy, use cases)."""

        def execute(self, query: Any, params: Any = None, **kw: Any) -> Any:
            refuse(query)
            return super().execute(query, params, **kw)

        def executemany(self, query: Any, params_seq: Any, **kw: Any) -> None:
            refuse(query)
            super().executemany(query, params_seq, **kw)

    class SavepointConnection(psycopg.Connection[Any]):
        wfnb_open = False
        wfnb_release = False  # a committed savepoint not released yet

        def own(self, sql: str, *, prepare: bool | None = None) -> Any:
            """Run the sandbox's own transaction control (past the guard)."""
            return psycopg.Cursor(self).execute(sql, prepare=prepare)

        def guard(self) -> None:
            """From now on, cursors refuse transaction control (``GuardedCursor``)."""
            self.cursor_factory = GuardedCursor

        def savepoint(self) -> None:
            release = "RELEASE SAVEPOINT " + _SAVEPOINT + "; " if self.wfnb_release else ""
            self.wfnb_release = False
            try:
                self.own(release + "SAVEPOINT " + _SAVEPOINT)
            except psycopg.errors.InvalidSavepointSpecification:
                self.lost()
                self.own("SAVEPOINT " + _SAVEPOINT)
            self.wfnb_open = True

        def lost(self) -> None:
            """A use case ended the outer transaction (a raw ``COMMIT`` or ``ROLLBACK``).

            The savepoint went with it; end the transaction the session is in now and
            carry on in a new one (read-only but for the shadows, as every transaction of
            the session). What the commit kept in the shadows, the next reset clears.
            """
            self.pgconn.exec_(b"ROLLBACK")  # past psycopg: its prepared statements stay

        def commit(self) -> None:
            if self.wfnb_open:
                self.wfnb_open = False
                self.wfnb_release = True

        def rollback(self) -> None:
            if self.wfnb_open:
                self.wfnb_open = False
                try:
                    self.own(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}; RELEASE SAVEPOINT {_SAVEPOINT}")
                except psycopg.errors.InvalidSavepointSpecification:
                    self.lost()

        def close(self) -> None:
            """Kept open: the sandbox ends the session with ``discard``."""

        def settle(self) -> None:
            """Commit the session's setup (the empty temp tables) for real, then read-only.

            From here on every transaction of the session is READ ONLY (the session's
            default, so it holds for a transaction a use case's raw ``COMMIT`` starts):
            PostgreSQL lets it write temporary tables and their sequences (the shadows)
            and nothing else. ``RESET ALL`` first undoes any setting a use case committed.
            """
            self.wfnb_open = self.wfnb_release = False
            self.own(_READ_ONLY_SESSION, prepare=False)
            psycopg.Connection.commit(self)

        def reset(self, probe: str) -> bool:
            """Roll back everything since the last ``settle``, keeping prepared statements.

            Then, in the same round trip, make the session read-only again and run
            ``probe`` (one boolean: "a shadow still holds rows", which only a use case's
            raw ``COMMIT`` can cause) and return its answer.

            ``Connection.rollback`` forgets every prepared statement (and deallocates
            them), so the next run's statements would be parsed and planned anew each
            time, never reaching psycopg's prepare threshold; the real engine's commits
            keep theirs. A ``ROLLBACK`` sent through libpq, past psycopg's cursor, does
            not touch that cache. (Prepared statements are not transactional in PostgreSQL,
            and the shadow tables they read were committed by ``settle``.)
            """
            self.wfnb_open = self.wfnb_release = False
            sql = "ROLLBACK; SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY; " + probe
            # libpq directly: psycopg would count this multi-statement query towards its
            # prepared-statement cache and, seeing ROLLBACK, clear the cache each time
            result = self.pgconn.exec_(sql.encode())
            if result.status != psycopg.pq.ExecStatus.TUPLES_OK:
                raise psycopg.OperationalError(
                    (result.error_message or b"sandbox reset failed").decode(errors="replace")
                )
            return result.get_value(0, 0) == b"t"

        def discard(self) -> None:
            """Roll the whole session back and close it."""
            self.wfnb_open = self.wfnb_release = False
            try:
                psycopg.Connection.rollback(self)
            finally:
                psycopg.Connection.close(self)

    return SavepointConnection


def _postgres(url: sa.URL) -> Isolated:
    from wfnb.timers.pgurl import libpq_conninfo  # noqa: PLC0415  # psycopg only here

    with wrap_errors("open sandbox"):
        raw = _savepoint_connection_class().connect(libpq_conninfo(url), autocommit=False)
        raw.guard()
        try:
            engine = sa.create_engine(url, creator=lambda: raw, poolclass=StaticPool)
            event.listen(engine, "begin", _open_savepoint)
            sandboxed(engine)
        except BaseException:
            raw.discard()
            raise

    def close() -> None:
        try:
            raw.discard()
        finally:
            engine.dispose()

    return Isolated(engine, None, "pg_temp", close, raw.settle, raw.reset)


def _open_savepoint(conn: sa.Connection) -> None:
    options = conn.get_execution_options()
    if options.get(READONLY) or options.get(PLAIN):
        return  # nothing to undo: no savepoint needed
    dbapi = conn.connection.dbapi_connection
    opener = getattr(dbapi, "savepoint", None)
    if callable(opener):
        opener()

"""Database URLs a person typed: parsed once, and checked to name a database that exists.

SQLite creates an empty file for any path it is asked to open, so a read-only command
given a mistyped path would "work" on a new, empty database and leave the file behind.
:func:`require_database` answers first, without creating anything: a SQLite URL must name
an existing, readable SQLite file; any other URL must accept one connection.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import sqlalchemy as sa

from wfnb.exceptions import StoreError, WfnbUsageError

__all__ = [
    "adbc_target",
    "has_history",
    "parse_url",
    "require_database",
    "require_history",
    "safe_url",
    "sqlite_file",
]

CONNECT_TIMEOUT_S = 10
"""How long the check waits for a PostgreSQL server (an unreachable host fails, never hangs)."""

SQLITE_MAGIC = b"SQLite format 3\x00"
"""The first 16 bytes of every SQLite database file (an empty file is an empty database)."""


def parse_url(url: str | sa.URL) -> sa.URL:
    """``url`` as a SQLAlchemy URL whose dialect is installed.

    Raises:
        WfnbUsageError: not a URL, or no installed dialect/driver for it (WF400).
    """
    try:
        parsed = sa.make_url(url)
        if parsed.drivername == "postgresql":  # psycopg 3, as wfnb.store.make_engine
            parsed = parsed.set(drivername="postgresql+psycopg")
        parsed.get_dialect().import_dbapi()  # an unknown dialect or a missing driver fails
    except (sa.exc.ArgumentError, ImportError, ValueError) as exc:
        shown = str(url) if isinstance(url, str) else url.render_as_string(hide_password=True)
        raise WfnbUsageError(
            f"not a usable database URL: {shown!r} ({exc}); "
            "expected e.g. sqlite:///path/to/file.db or postgresql://user@host/db",
            value=shown,
        ) from None
    return parsed


def safe_url(url: sa.URL) -> str:
    """The URL as text with its password hidden (for messages)."""
    return url.render_as_string(hide_password=True)


def sqlite_file(url: sa.URL) -> Path | None:
    """The file a SQLite URL names; ``None`` for in-memory databases and other dialects."""
    if url.get_backend_name() != "sqlite":
        return None
    name = url.database or ""
    if url.query.get("uri") in {"true", "1"} and name.startswith("file:"):
        if url.query.get("mode") == "memory" or "mode=memory" in name:
            return None
        name = name.removeprefix("file:").partition("?")[0]
    if name in {"", ":memory:"}:
        return None
    return Path(name)


def adbc_target(url: sa.URL) -> tuple[str, str] | None:
    """The ADBC driver (``"sqlite"``, ``"postgresql"``) and URI that reach ``url``'s database.

    SQLite: never. The ADBC driver links its own copy of the SQLite library; two copies
    in one process opening one file release each other's POSIX locks, and a write beside
    an Arrow read then corrupts the file ("database disk image is malformed": seen in the
    incremental-conformance test, and SQLite's "How To Corrupt" §2.2.1). SQLite reads
    go through SQLAlchemy's own connection (ADR 0110, amended). PostgreSQL:
    the libpq URI, any ``+driver`` dropped, password and query (``options``, ``sslmode``...)
    kept, since libpq reads the same keywords psycopg passes on. ``None`` for anything else:
    the caller then reads through SQLAlchemy (ADR 0110).
    """
    backend = url.get_backend_name()
    if backend == "postgresql":
        return "postgresql", url.set(drivername="postgresql").render_as_string(hide_password=False)
    return None


def _check_sqlite_file(path: Path) -> None:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise StoreError(f"no such database: {path} does not exist", path=str(path)) from None
    except OSError as exc:
        raise StoreError(f"cannot read database {path}: {exc.strerror}", path=str(path)) from None
    if not stat.S_ISREG(mode):
        raise StoreError(f"not a database: {path} is not a regular file", path=str(path))
    if not os.access(path, os.R_OK):
        raise StoreError(f"cannot read database {path}: permission denied", path=str(path))
    try:
        with path.open("rb") as fh:
            head = fh.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise StoreError(f"cannot read database {path}: {exc.strerror}", path=str(path)) from None
    if head and head != SQLITE_MAGIC:
        raise StoreError(f"not a database: {path} is not a SQLite file", path=str(path))


def require_database(url: str | sa.URL) -> sa.URL:
    """Check that ``url`` names an existing, readable database, creating nothing.

    SQLite: the file exists, is a regular readable file and starts like a SQLite
    database (an empty file is an empty database); in-memory URLs always pass. Any other
    dialect: one connection is opened and closed.

    Returns:
        The parsed URL.

    Raises:
        WfnbUsageError: ``url`` is not a usable URL (WF400).
        StoreError: no such database, or it cannot be read or reached (WF300).
    """
    parsed = parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = sqlite_file(parsed)
        if path is not None:
            _check_sqlite_file(path)
        return parsed
    connect_args = (
        {"connect_timeout": CONNECT_TIMEOUT_S} if parsed.get_backend_name() == "postgresql" else {}
    )
    engine = sa.create_engine(parsed, connect_args=connect_args)
    try:
        with engine.connect():
            pass
    except sa.exc.DBAPIError as exc:
        detail = " ".join(str(exc.orig).split())
        raise StoreError(
            f"cannot connect to {safe_url(parsed)}: {detail}", url=safe_url(parsed)
        ) from None
    except sa.exc.SQLAlchemyError as exc:
        raise StoreError(f"cannot connect to {safe_url(parsed)}: {exc}") from None
    finally:
        engine.dispose()
    return parsed


HISTORY_TABLE = "workflow_history"
"""The table every wfnb database has once an engine was installed on it."""


def has_history(db: str | sa.URL | sa.Engine) -> bool:
    """Whether the database has wfnb's ``workflow_history`` table (read, nothing created).

    Raises:
        StoreError: the database cannot be read (WF300).
    """
    engine = db if isinstance(db, sa.Engine) else sa.create_engine(require_database(db))
    try:
        return sa.inspect(engine).has_table(HISTORY_TABLE)
    except sa.exc.SQLAlchemyError as exc:
        raise StoreError(f"cannot read the database {safe_url(engine.url)}: {exc}") from None
    finally:
        if engine is not db:
            engine.dispose()


def require_history(db: str | sa.URL | sa.Engine) -> None:
    """Refuse a database without ``workflow_history`` before a command reads history.

    Raises:
        StoreError: ``WF300 not a wfnb database: no workflow_history table`` (or unreadable).
    """
    if not has_history(db):
        raise StoreError(
            f"not a wfnb database: no {HISTORY_TABLE} table "
            "(an empty database, or one no wfnb engine was installed on)"
        )

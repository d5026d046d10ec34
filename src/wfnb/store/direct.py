"""Direct DB-API reads: the step's entity SELECT on SQLite, without SQLAlchemy's execution path.

Every step reads its entity once. On SQLite, in process, SQLite answers that primary-key
SELECT in about 2 µs; SQLAlchemy's per-statement execution machinery around it (execution
context, cursor result, row objects) costs ten times that, and it is the one statement a
step runs beyond the raw floor of CAS + history INSERT. ADR 0015 weighs the options.

What stays the same as the SQLAlchemy path:

- **The statement**: still a SQLAlchemy construct, compiled once per dialect; identifiers
  are quoted by SQLAlchemy.
- **The row**: each value goes through the result processor SQLAlchemy would apply to its
  column type (a ``DATETIME`` column still comes back as a ``datetime``), keyed by column
  name as ``Row._asdict()`` keys it.
- **Errors**: a driver error becomes the ``sqlalchemy.exc.DBAPIError`` subclass SQLAlchemy
  would raise, so ``wrap_errors`` turns it into a ``StoreError`` as before.
- **Observability**: whenever anything watches statements (an ``execute``, cursor or
  ``handle_error`` event listener on the engine or connection, or SQL logging/echo), the
  caller takes the SQLAlchemy path instead, so no listener or log ever misses the read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

__all__ = ["DirectSelect", "direct_select", "watched"]

_Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class DirectSelect:
    """A compiled single-row SELECT, ready to run on the DB-API connection."""

    sql: str
    binds: tuple[str, ...]  # bind parameter names, in positional order
    names: tuple[str, ...]  # result column names, as ``Row._asdict()`` keys them
    processors: tuple[_Processor, ...]  # SQLAlchemy's result processor per column

    def first(self, conn: sa.Connection, params: Mapping[str, Any]) -> dict[str, Any] | None:
        """The first row as a dict (values processed as SQLAlchemy would), or None.

        Raises:
            sqlalchemy.exc.DBAPIError: the driver failed (the subclass SQLAlchemy would raise).
        """
        values = tuple(params[name] for name in self.binds)
        dbapi = conn.dialect.loaded_dbapi
        try:
            rows = conn.connection.driver_connection.execute(self.sql, values).fetchall()  # type: ignore[union-attr]
        except dbapi.Error as exc:
            raise sa.exc.DBAPIError.instance(
                self.sql, values, exc, dbapi.Error, dialect=conn.dialect
            ) from exc
        if not rows:
            return None
        row = rows[0]
        return {
            name: value if process is None else process(value)
            for name, process, value in zip(self.names, self.processors, row, strict=True)
        }


@lru_cache(maxsize=256)
def direct_select(stmt: sa.Select[Any], dialect: sa.Dialect) -> DirectSelect | None:
    """``stmt`` compiled for a direct read on ``dialect``; None where none is done.

    Only SQLite's own driver (pysqlite, positional ``?`` parameters) reads directly: on a
    client-server database the round trip dominates and SQLAlchemy's path costs little
    beside it.
    """
    if dialect.name != "sqlite" or dialect.driver != "pysqlite" or dialect.paramstyle != "qmark":
        return None
    compiled = stmt.compile(dialect=dialect)
    columns = list(stmt.selected_columns)
    return DirectSelect(
        sql=compiled.string,
        binds=tuple(compiled.positiontup or ()),
        names=tuple(c.name for c in columns),
        processors=tuple(
            c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns
        ),
    )


def watched(conn: sa.Connection) -> bool:
    """Whether something observes ``conn``'s statements (listeners, SQL logging or echo).

    Listeners are looked up on the engine (which includes those on the ``Engine`` class)
    and, for ``handle_error``, on the dialect. A listener on the connection itself cannot
    exist yet: the store reads the entity first thing on a connection it has just opened.
    """
    engine = conn.engine
    events = engine.dispatch
    return bool(
        events.before_execute
        or events.after_execute
        or events.before_cursor_execute
        or events.after_cursor_execute
        or conn.dialect.dispatch.handle_error  # error listeners live on the dialect
        or engine.logger.isEnabledFor(logging.INFO)
    )

"""``ctx.conn``: the step's connection as a use case gets it, unable to end the transaction.

A use case writes through ``ctx.conn`` inside the step's transaction. Committing, rolling
back or closing that connection would keep (or lose) writes of a step that then fails, so
``StepConnection`` forwards everything to the SQLAlchemy ``Connection`` except what ends
the transaction, which it refuses with ``UseCaseError`` (WF206):

- ``commit()``, ``rollback()``, ``close()``, ``begin()``, ``invalidate()``, ``detach()``,
  the root transaction (``get_transaction()``), the DB-API connection (``connection``) and
  a change of isolation level;
- textual SQL (``text()``, ``exec_driver_sql``, ``DDL``) holding a statement that controls
  the transaction or session: ``COMMIT``, ``ROLLBACK``, ``END``, ``ABORT``, ``RELEASE``,
  ``PREPARE TRANSACTION``, ``SET SESSION CHARACTERISTICS``, ``ATTACH``... (any statement
  of a multi-statement string, as tokenized by ``wfnb.engine.sqlguard``: quoted text,
  comments and dollar-quoted bodies are not mistaken for statements);
- in a dry-run, the engine (``ctx.conn.engine``): its other connections would reach the
  sandbox's session past this proxy.

Savepoints (``begin_nested()``) stay available: they end inside the step's transaction.
After each use case the engine asks the driver, without a round trip, whether its
transaction is still open (``transaction_open``): SQL that ended it some other way fails
the step with WF206 too, as does a refusal the use case caught and ignored.
"""

from __future__ import annotations

import weakref
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.ddl import ExecutableDDLElement

from wfnb.engine.sqlguard import transaction_control
from wfnb.exceptions import UseCaseError

__all__ = ["StepConnection", "guarded", "sandboxed", "transaction_failed", "transaction_open"]

_INFO_KEY = "wfnb_step_connection"
_REFUSED = frozenset(
    {"begin", "close", "commit", "connection", "detach", "get_transaction", "invalidate"}
)


_SANDBOXES: weakref.WeakSet[sa.Engine] = weakref.WeakSet()
"""Engines of sandboxes (``sandboxed``): their ``ctx.conn.engine`` is refused."""


def ends_transaction(sql: str) -> bool:
    """Whether ``sql`` holds a statement that controls the transaction (see ``sqlguard``)."""
    return transaction_control(sql) is not None


def sandboxed(engine: sa.Engine) -> None:
    """Mark ``engine`` as a sandbox's: a use case's ``ctx.conn`` on it hides its engine."""
    _SANDBOXES.add(engine)


class StepConnection:
    """The step's ``Connection`` without the means to end its transaction (see the module)."""

    __slots__ = ("_conn", "refusals")

    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn
        self.refusals = 0
        """How many times a use case tried to end the transaction (any is WF206)."""

    @property
    def wrapped(self) -> sa.Connection:
        """The step's ``Connection`` (the engine's, never handed to a use case)."""
        return self._conn

    def _refuse(self, what: str) -> UseCaseError:
        self.refusals += 1
        return UseCaseError(
            f"ctx.conn refuses {what}: a use case cannot end the step's transaction "
            "(use ctx.conn.begin_nested() for a savepoint)",
            refused=what,
        )

    def _check_text(self, statement: Any) -> None:
        sql: Any = statement
        if isinstance(statement, sa.TextClause):
            sql = statement.text
        elif isinstance(statement, ExecutableDDLElement):
            sql = getattr(statement, "statement", "")
        elif hasattr(statement, "element") and isinstance(statement.element, sa.TextClause):
            sql = statement.element.text  # text(...).columns(...)
        if isinstance(sql, str) and (found := transaction_control(sql)) is not None:
            raise self._refuse(f"SQL that controls the transaction: {found!r}")

    def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        """``Connection.execute``; textual SQL that ends the transaction is refused."""
        self._check_text(statement)
        return self._conn.execute(statement, *args, **kwargs)

    def exec_driver_sql(self, statement: str, *args: Any, **kwargs: Any) -> Any:
        """``Connection.exec_driver_sql``; SQL that ends the transaction is refused."""
        self._check_text(statement)
        return self._conn.exec_driver_sql(statement, *args, **kwargs)

    def scalar(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        """``Connection.scalar`` (checked as ``execute``)."""
        self._check_text(statement)
        return self._conn.scalar(statement, *args, **kwargs)

    def scalars(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        """``Connection.scalars`` (checked as ``execute``)."""
        self._check_text(statement)
        return self._conn.scalars(statement, *args, **kwargs)

    def execution_options(self, **options: Any) -> StepConnection:
        """``Connection.execution_options``, except the isolation level; returns this proxy."""
        if "isolation_level" in options:
            raise self._refuse("a change of isolation level")
        self._conn.execution_options(**options)
        return self

    def __getattr__(self, name: str) -> Any:
        if name in _REFUSED or (name == "engine" and self._conn.engine in _SANDBOXES):
            raise self._refuse(f"{name}")
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._conn, name)

    def __enter__(self) -> StepConnection:
        return self

    def __exit__(self, *_exc: object) -> None:
        """Leaving ``with ctx.conn:`` closes nothing: the step owns the connection."""

    def __repr__(self) -> str:
        return f"<StepConnection of {self._conn!r}>"


def guarded(conn: sa.Connection) -> StepConnection:
    """The one ``StepConnection`` of ``conn`` (every context of a batch shares it)."""
    info = conn.info
    guard = info.get(_INFO_KEY)
    if guard is None or guard._conn is not conn:  # our own class
        guard = info[_INFO_KEY] = StepConnection(conn)
    return guard


def transaction_open(conn: sa.Connection) -> bool:
    """Whether the driver still has the step's transaction open (asked without a round trip)."""
    raw = conn.connection.dbapi_connection
    info = getattr(raw, "info", None)
    status = getattr(info, "transaction_status", None)
    if status is not None:  # psycopg 3: IDLE (0) means no transaction
        return int(status) != 0
    in_transaction = getattr(raw, "in_transaction", None)
    return in_transaction is not False  # sqlite3; an unknown driver is trusted


_INERROR = 3
"""psycopg's ``TransactionStatus.INERROR``: a statement failed, the transaction is aborted."""


def transaction_failed(conn: sa.Connection) -> bool:
    """Whether a statement failed in the step's transaction and left it aborted (PostgreSQL).

    A use case that swallows its own database error and carries on has lost the step's
    transaction: nothing more can be written in it. (Asked without a round trip.)
    """
    info = getattr(conn.connection.dbapi_connection, "info", None)
    status = getattr(info, "transaction_status", None)
    return status is not None and int(status) == _INERROR

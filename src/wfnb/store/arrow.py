"""Arrow-native reads: ADBC connections that mirror a SQLAlchemy read, and statements for them.

An analytic read (``wfnb.frames``, conformance) opens its SQLAlchemy read transaction as
before (tenant set for RLS); :func:`mirror` then opens an ADBC connection (Apache Arrow's
drivers for SQLite and PostgreSQL) to the same database and gives it the same session:
on PostgreSQL the same ``search_path``, the same ``app.tenant_id`` for the transaction,
and the same ``current_user`` (a ``SET ROLE`` when the login differs; when that is refused
there is no mirror). :func:`read_arrow` runs one SQLAlchemy Core statement on it, compiled
for the dialect with its bound values, and returns a ``pyarrow.Table``: filters still run
in the database, and the SQL still lives in ``wfnb.store``.

Whenever a mirror cannot be had, the caller reads through SQLAlchemy as before: no
driver installed, a URL ADBC cannot reach (an in-memory SQLite, a pool that serves one
shared connection such as a sandbox's), ``WFNB_ARROW=0`` in the environment, or an
ADBC error on the statement (SQLAlchemy then either reads it or raises the real
``StoreError``). See docs/adr/0110.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.pool import StaticPool

from wfnb.store.urls import adbc_target

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["ARROW_ENV", "arrow_enabled", "compile_arrow", "mirror", "read_arrow"]

ARROW_ENV = "WFNB_ARROW"
"""Set to ``0`` (or ``off``, ``false``) to read through SQLAlchemy only."""

_LOG = logging.getLogger("wfnb.store.arrow")
_ALL_AT_ONCE = str(1 << 30)
_NULL_TYPES: dict[Any, Any] = {}
"""Python type → Arrow type of a column that holds only NULLs (filled on first use)."""
"""SQLite batch size: one batch, so the driver types each column from all its values."""


def arrow_enabled() -> bool:
    """Whether Arrow reads are allowed here (``WFNB_ARROW`` is not 0/off/false)."""
    return os.environ.get(ARROW_ENV, "1").strip().lower() not in {"0", "off", "false", "no"}


def _driver(name: str) -> Any:
    if name == "sqlite":
        import adbc_driver_sqlite.dbapi as sqlite_dbapi  # noqa: PLC0415  # optional extra

        return sqlite_dbapi
    import adbc_driver_postgresql.dbapi as pg_dbapi  # noqa: PLC0415  # optional extra

    return pg_dbapi


_PG_SESSION = sa.text(
    "SELECT current_user, current_setting('search_path'), current_setting('app.tenant_id', true)"
)
_PG_PATH = "SELECT set_config('search_path', $1, false)"
_PG_TENANT = "SELECT set_config('app.tenant_id', $1, true)"


def _mirror_pg(conn: sa.Connection, adbc: Any) -> bool:
    """Give ``adbc`` the session of ``conn``; False when its user cannot be matched."""
    user, path, tenant = conn.execute(_PG_SESSION).one()
    with adbc.cursor() as cur:
        cur.execute("SELECT current_user")
        if cur.fetchone()[0] != user:
            cur.execute("SELECT quote_ident($1)", parameters=(user,))
            cur.execute(f"SET ROLE {cur.fetchone()[0]}")  # quoted by the server
            cur.execute("SELECT current_user")
            if cur.fetchone()[0] != user:
                return False
        cur.execute(_PG_PATH, parameters=(path,))
        cur.fetchall()
        if tenant is not None:  # for this transaction only, as queries.set_tenant does
            cur.execute(_PG_TENANT, parameters=(tenant,))
            cur.fetchall()
    return True


@contextmanager
def mirror(conn: sa.Connection) -> Iterator[Any | None]:
    """An ADBC connection with ``conn``'s database and session, in a transaction; or None.

    The transaction is rolled back at the end (it only reads). None means: read through
    SQLAlchemy (no driver, a database ADBC cannot share, Arrow switched off).
    """
    adbc = _open(conn)
    try:
        yield adbc
    finally:
        if adbc is not None:
            with suppress(Exception):
                adbc.rollback()
            with suppress(Exception):
                adbc.close()


def _open(conn: sa.Connection) -> Any | None:
    if not arrow_enabled() or isinstance(conn.engine.pool, StaticPool):
        return None
    target = adbc_target(conn.engine.url)
    if target is None:
        return None
    name, uri = target
    try:
        dbapi = _driver(name)
    except ImportError:
        _LOG.debug("no ADBC driver for %s: reading through SQLAlchemy", name)
        return None
    adbc: Any = None
    try:
        adbc = dbapi.connect(uri)
        if name == "postgresql" and not _mirror_pg(conn, adbc):
            adbc.close()
            return None
    except Exception as exc:  # noqa: BLE001  # any failure: SQLAlchemy reads (and reports) it
        _LOG.debug("no ADBC connection (%s): reading through SQLAlchemy", exc)
        if adbc is not None:
            with suppress(Exception):
                adbc.close()
        return None
    return adbc


def _value(value: Any) -> Any:
    """A bound value as ADBC binds it (JSON as text)."""
    if isinstance(value, Mapping | list):
        return json.dumps(value)
    return value


def compile_arrow(stmt: sa.Select[Any], dialect: str) -> tuple[str, tuple[Any, ...]]:
    """``stmt`` as SQL text for the ADBC driver of ``dialect`` and its positional values.

    SQLite takes ``?`` and the values SQLAlchemy's bind processors make (timestamps as the
    text they are stored as); PostgreSQL takes ``$n`` with each value's type cast in the
    SQL (``$1::TIMESTAMP WITH TIME ZONE``, ``$2::JSONB``), as the asyncpg dialect renders it.
    """
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql.asyncpg import (  # noqa: PLC0415  # no asyncpg import
            PGDialect_asyncpg,
        )

        target: sa.Dialect = PGDialect_asyncpg()  # type: ignore[no-untyped-call]
    else:
        from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite  # noqa: PLC0415

        target = SQLiteDialect_pysqlite()
    compiled = stmt.compile(dialect=target, compile_kwargs={"render_postcompile": True})
    params = compiled.params
    values = []
    for name in compiled.positiontup or ():
        value = params[name]
        bind = compiled.binds.get(name)
        if bind is None:  # one value of an expanded IN list: workflow_1_2 of workflow_1
            bind = compiled.binds.get(name.rsplit("_", 1)[0])
        impl = bind.type.dialect_impl(target) if bind is not None else None
        process = impl.bind_processor(target) if impl is not None else None
        if dialect != "postgresql" and process is not None and value is not None:
            value = process(value)
        values.append(_value(value.isoformat() if isinstance(value, date) and
                             not isinstance(value, datetime) else value))  # fmt: skip
    return str(compiled), tuple(values)


def read_arrow(adbc: Any, stmt: sa.Select[Any], dialect: str) -> pa.Table | None:
    """Every row of ``stmt`` as one Arrow table on ``adbc``; None when the driver fails.

    On None the caller reads the statement through SQLAlchemy, which either succeeds or
    raises the ``StoreError`` this read would have deserved.
    """
    sql, values = compile_arrow(stmt, dialect)
    try:
        with adbc.cursor() as cur:
            if dialect == "sqlite":
                cur.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": _ALL_AT_ONCE})
            cur.execute(sql, parameters=values or None)
            return cur.fetch_arrow_table()
    except Exception as exc:  # noqa: BLE001  # SQLAlchemy re-reads and reports it
        _LOG.debug("ADBC read failed (%s): reading through SQLAlchemy", exc)
        return None  # on PostgreSQL the transaction is now aborted: later reads fail too


def columns_of(stmt: sa.Select[Any]) -> Sequence[str]:
    """The names of ``stmt``'s result columns, in order."""
    return [str(c.key) for c in stmt.selected_columns]


def _has_python_type(kind: Any) -> bool:
    try:
        kind.python_type  # noqa: B018  # NullType and some others raise
    except NotImplementedError:
        return False
    return True


def _is_numeric(arrow_type: Any) -> bool:
    """PostgreSQL ``numeric``, which the driver hands over as text in an opaque type."""
    return getattr(arrow_type, "type_name", None) == "numeric"


def _storage(array: Any) -> Any:
    """``array`` without an extension type (JSON, opaque ``numeric``): its storage."""
    import pyarrow as pa  # noqa: PLC0415  # with the optional Arrow extra only

    if isinstance(array.type, pa.ExtensionType | pa.BaseExtensionType):
        return pa.chunked_array([c.storage for c in array.chunks], type=array.type.storage_type)
    return array


def conform(table: pa.Table, stmt: sa.Select[Any]) -> tuple[pa.Table, list[str]]:
    """``table`` with each column's Arrow type set from ``stmt``'s SQLAlchemy type.

    The SQLite driver types a column from its values, so a column holding only NULLs
    comes back as integers: text, float and integer columns are cast to what their
    SQLAlchemy type says. Returns the table and the names of its JSON columns (text
    here; the caller parses them).
    """
    import pyarrow as pa  # noqa: PLC0415  # with the optional Arrow extra only

    if not _NULL_TYPES:
        _NULL_TYPES.update({str: pa.string(), float: pa.float64(), int: pa.int64()})
    json_columns: list[str] = []
    arrays = []
    for column, chunked in zip(stmt.selected_columns, table.columns, strict=True):
        array, kind, wanted = _storage(chunked), column.type, None
        if isinstance(kind, sa.JSON):
            json_columns.append(str(column.key))
        if isinstance(kind, sa.JSON | sa.String):
            wanted = pa.string()
        elif _is_numeric(chunked.type):
            wanted = pa.float64()  # the driver's text of a numeric; pandas made it a float
        elif isinstance(kind, sa.Integer) and pa.types.is_integer(array.type):
            wanted = pa.int64()  # PostgreSQL's integer is int32; pandas got Python ints
        elif array.null_count == len(array):  # the driver guessed from NULLs alone
            wanted = _NULL_TYPES.get(kind.python_type if _has_python_type(kind) else None)
        text = pa.types.is_string(array.type) or pa.types.is_large_string(array.type)
        keep = wanted is None or array.type == wanted or (wanted == pa.string() and text)
        arrays.append(array if keep else array.cast(wanted))
    return pa.table(arrays, names=list(columns_of(stmt))), json_columns

"""How ``wfnb.frames`` talks to the database: read transactions, Arrow reads, dtypes.

A read opens one transaction (deferred on SQLite, tenant-scoped for RLS on PostgreSQL)
and reads its rows as Arrow through an ADBC connection that mirrors that transaction's
session (:mod:`wfnb.store.arrow`, ADR 0110); where no such connection can be had, it
streams the rows through SQLAlchemy in chunks behind a tqdm progress bar. Either way the
frame gets the same dtypes: tz-aware UTC timestamps, categoricals for low-cardinality
names, nullable strings, JSON as Python objects.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from wfnb.exceptions import WfnbUsageError
from wfnb.store import arrow, queries, reads
from wfnb.store.database import READONLY
from wfnb.store.errors import wrap_errors

__all__ = [
    "CHUNKSIZE",
    "arrow_frame",
    "connect",
    "fetch",
    "moment",
    "read_frame",
    "typed",
]

CHUNKSIZE = 100_000
"""Rows per fetch when streaming a large read."""

DbLike = sa.Engine | str | sa.URL


def _engine(db: DbLike) -> tuple[sa.Engine, bool]:
    """The engine for ``db`` and whether this read created it (and must dispose of it)."""
    if isinstance(db, sa.Engine):
        return db, False
    url = sa.make_url(db)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    with wrap_errors("create engine"):
        return sa.create_engine(url), True


@contextmanager
def connect(db: DbLike, tenant_id: str | None = None) -> Iterator[sa.Connection]:
    """A read-only transaction on ``db``; with ``tenant_id``, RLS scoped to it (PostgreSQL).

    Never changes the database: a URL gets a plain engine (no WAL switch, no write lock).
    """
    engine, owned = _engine(db)
    try:
        with wrap_errors("read"), engine.connect() as raw:
            conn = raw.execution_options(**{READONLY: True})
            with conn.begin():
                if tenant_id is not None and engine.dialect.name == "postgresql":
                    queries.set_tenant(conn, tenant_id)
                yield conn
    finally:
        if owned:
            engine.dispose()


def moment(value: str | datetime | date | pd.Timestamp | None) -> datetime | None:
    """A bound for ``since``/``until`` as a UTC datetime (naive input is taken as UTC)."""
    if value is None:
        return None
    try:
        stamp = pd.Timestamp(value)
    except ValueError as exc:
        raise WfnbUsageError(f"not a date or time: {value!r}") from exc
    stamp = stamp.tz_localize(UTC) if stamp.tzinfo is None else stamp.tz_convert(UTC)
    return stamp.to_pydatetime()


def _interactive() -> bool:
    shell = sys.modules.get("IPython")
    if shell is not None and getattr(shell, "get_ipython", lambda: None)() is not None:
        return True
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


def fetch(
    conn: sa.Connection,
    stmt: sa.Select[Any],
    *,
    chunksize: int = CHUNKSIZE,
    progress: bool | None = None,
    label: str = "rows",
) -> tuple[list[tuple[Any, ...]], list[str]]:
    """All rows of ``stmt``, streamed ``chunksize`` at a time, with a progress bar.

    The bar shows when ``progress`` is True, or (None) in a notebook or a terminal.
    """
    show = _interactive() if progress is None else progress
    total = conn.execute(reads.count_rows(stmt)).scalar_one() if show else None
    from tqdm.auto import tqdm  # noqa: PLC0415  # only for reads, never in the engine path

    result = conn.execution_options(stream_results=True, yield_per=chunksize).execute(stmt)
    columns = list(result.keys())
    rows: list[tuple[Any, ...]] = []
    with tqdm(total=total, desc=label, unit="row", disable=not show, leave=False) as bar:
        for chunk in result.partitions():
            rows.extend(map(tuple, chunk))  # plain tuples: pandas' fast path
            bar.update(len(chunk))
    return rows, columns


def typed(
    frame: pd.DataFrame,
    *,
    categories: Iterable[str] = (),
    strings: Iterable[str] = (),
    stamps: Iterable[str] = (),
    numbers: Iterable[str] = (),
) -> pd.DataFrame:
    """``frame`` with its dtypes set: categoricals, nullable strings, UTC timestamps."""
    for name in categories:
        frame[name] = frame[name].astype("category")
    for name in strings:
        frame[name] = frame[name].astype("string")
    for name in stamps:
        frame[name] = pd.to_datetime(frame[name], utc=True, format="ISO8601")
    for name in numbers:
        frame[name] = pd.to_numeric(frame[name]).astype("float64")
    return frame


def _parsed_json(column: pd.Series) -> pd.Series:
    """JSON text as Python objects, each distinct text parsed once (equal texts share one)."""
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    parsed = np.empty(len(uniques) + 1, dtype=object)
    parsed[:-1] = [json.loads(u) for u in uniques]
    parsed[-1] = None
    return pd.Series(parsed[codes], index=column.index, name=column.name, dtype=object)


def arrow_frame(conn: sa.Connection, stmt: sa.Select[Any]) -> pd.DataFrame | None:
    """``stmt``'s rows read as Arrow on a mirror of ``conn``; None: read them with SQLAlchemy.

    Columns come back as the SQLAlchemy read gives them to pandas: text as ``str``,
    integers as ``int64`` (``float64`` with NULLs), JSON parsed; timestamps as the driver
    gives them (``typed`` makes every one tz-aware UTC).
    """
    dialect = conn.dialect.name
    with arrow.mirror(conn) as adbc:
        table = None if adbc is None else arrow.read_arrow(adbc, stmt, dialect)
    if table is None:
        return None
    table, json_columns = arrow.conform(table, stmt)
    empty = [n for n, c in zip(table.column_names, table.columns, strict=True)
             if len(c) and c.null_count == len(c)]  # fmt: skip
    frame: pd.DataFrame = table.to_pandas(split_blocks=True, self_destruct=True)
    for name in json_columns:
        frame[name] = _parsed_json(frame[name])
    for name in empty:  # as SQLAlchemy's rows give pandas a column of NULLs: None objects
        frame[name] = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    return frame


def read_frame(
    db: DbLike,
    stmt: sa.Select[Any],
    *,
    tenant_id: str | None = None,
    chunksize: int = CHUNKSIZE,
    progress: bool | None = None,
    label: str = "rows",
    limit: int | None = None,
) -> pd.DataFrame:
    """Run ``stmt`` in a read transaction and return its rows as an untyped frame.

    With ``limit`` (``stmt`` is already limited to it) and a full answer, the same
    transaction counts every row that matches: ``attrs["wfnb_total"]`` says the frame
    is cut, ``attrs["wfnb_returned"]`` how many rows it holds.
    """
    total: int | None = None
    with connect(db, tenant_id) as conn, wrap_errors(label):
        frame = arrow_frame(conn, stmt)
        if frame is None:
            rows, columns = fetch(conn, stmt, chunksize=chunksize, progress=progress, label=label)
            frame = pd.DataFrame.from_records(rows, columns=columns, nrows=len(rows))
        if limit is not None and len(frame) >= limit:
            whole = stmt.limit(None).offset(None)
            total = int(conn.execute(reads.count_rows(whole)).scalar_one())
    if limit is not None:
        frame.attrs.update(
            wfnb_total=len(frame) if total is None else total, wfnb_returned=len(frame)
        )
    return frame


def dialect_of(db: DbLike) -> str:
    """``postgresql``, ``sqlite``, ... for an engine or a URL (no connection made)."""
    if isinstance(db, sa.Engine):
        return db.dialect.name
    return sa.make_url(db).get_backend_name()

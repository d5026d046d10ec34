"""The store boundary: driver errors become ``StoreError`` here, once, and nowhere else."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import exc as sa_exc

from wfnb.exceptions import StoreError

__all__ = ["describe_db_error", "refused_as_read_only", "wrap_errors", "written_table"]


@contextmanager
def wrap_errors(operation: str) -> Iterator[None]:
    """Turn any SQLAlchemy or DB-API error raised inside into a ``StoreError``.

    Usable as a context manager or a decorator (``contextmanager`` objects are both).
    Anything that is not a driver error (a wfnb error, a use case's own exception the
    engine has already caught) passes through untouched.

    Args:
        operation: what the store was doing, named in the error's message and fields.
    """
    try:
        yield
    except sa_exc.DBAPIError as exc:
        raise StoreError(
            f"{operation} failed: {type(exc.orig).__name__}: {exc.orig}",
            operation=operation,
            sqlstate=getattr(exc.orig, "sqlstate", None),
        ) from exc
    except sa_exc.SQLAlchemyError as exc:
        raise StoreError(
            f"{operation} failed: {describe_db_error(exc)}", operation=operation
        ) from exc


_WRITTEN = re.compile(
    r"^\s*(?:WITH\b.*?\)\s*)?(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|REPLACE\s+INTO|UPDATE(?:\s+OR\s+\w+)?"
    r"|DELETE\s+FROM|MERGE\s+INTO)\s+(?:ONLY\s+)?"
    r'((?:"(?:[^"]|"")+"|[\w$]+)(?:\s*\.\s*(?:"(?:[^"]|"")+"|[\w$]+))?)',
    re.IGNORECASE | re.DOTALL,
)
_READ_ONLY = ("attempt to write a readonly database", "read-only transaction")


def written_table(statement: str | None) -> str | None:
    """The table a write statement targets (``schema.table`` when qualified), else None.

    Reads the leading ``INSERT INTO``/``UPDATE``/``DELETE FROM``/``REPLACE INTO``/``MERGE
    INTO`` (after a ``WITH`` clause); quoted identifiers are unquoted. A ``SELECT`` or an
    unrecognised statement: None.
    """
    found = _WRITTEN.match(statement or "")
    if found is None:
        return None
    parts = re.findall(r'"((?:[^"]|"")+)"|([\w$]+)', found.group(1))
    return ".".join(q.replace('""', '"') if q else plain for q, plain in parts)


def refused_as_read_only(exc: BaseException) -> bool:
    """Whether a driver error says the database (or transaction) is read-only."""
    orig = getattr(exc, "orig", exc)
    if getattr(orig, "sqlstate", None) == "25006":  # PostgreSQL: read_only_sql_transaction
        return True
    text = str(orig).lower()
    return any(marker in text for marker in _READ_ONLY)


def describe_db_error(exc: BaseException) -> str:
    """A driver error in one line without its SQL or bound parameters (no personal data).

    ``TypeName: driver message`` plus the table a write targeted; SQLAlchemy's
    ``[SQL: ...]``/``[parameters: ...]`` parts are left out (the statement stays on the
    exception, which the caller chains as ``__cause__``). Any other exception: its text.
    """
    if not isinstance(exc, sa_exc.StatementError):
        return f"{type(exc).__name__}: {exc}"
    orig = exc.orig if exc.orig is not None else exc
    first = " ".join(str(orig).split("\n", 1)[0].split())
    table = written_table(exc.statement)
    where = f" (writing table {table!r})" if table else ""
    return f"{type(exc).__name__}: {first}{where}"

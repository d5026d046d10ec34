"""The store boundary: driver errors become ``StoreError`` here, once, and nowhere else."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import exc as sa_exc

from wfnb.exceptions import StoreError

__all__ = ["wrap_errors"]


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
        raise StoreError(f"{operation} failed: {exc}", operation=operation) from exc

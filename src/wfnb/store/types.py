"""Column types of the engine-owned tables: timestamps stored as UTC on every dialect."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

__all__ = ["UtcDateTime"]


class UtcDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware timestamp written as its UTC instant.

    PostgreSQL's ``timestamptz`` keeps the instant whatever the offset; SQLite has no time
    zones and SQLAlchemy writes an aware value's wall time, dropping its offset (12:00+02:00
    would read back as 12:00). Binding every aware value as UTC makes both dialects keep the
    same instant, in writes and in filters alike. A naive value is taken as UTC, as the
    engine's clock always was. Values read back are what the dialect returns (naive UTC on
    SQLite; ``as_utc`` makes them aware).
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        """An aware datetime → the same instant in UTC; anything else unchanged."""
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.astimezone(UTC)
        return value

    @property
    def python_type(self) -> type[datetime]:
        """``datetime``."""
        return datetime

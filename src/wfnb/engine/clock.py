"""Time as the engine sees it: the ``Clock`` port and the system clock (UTC)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "SystemClock", "as_utc"]


@runtime_checkable
class Clock(Protocol):
    """Anything with ``now()`` returning an aware datetime (a virtual clock in simulations)."""

    def now(self) -> datetime:
        """The current moment, timezone-aware."""
        ...


class SystemClock:
    """The wall clock, in UTC."""

    def now(self) -> datetime:
        """``datetime.now(UTC)``."""
        return datetime.now(UTC)

    def __repr__(self) -> str:
        return "SystemClock()"


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime (SQLite returns naive values for what the engine wrote as UTC)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)

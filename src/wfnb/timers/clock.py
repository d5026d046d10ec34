"""Clocks: the system clock (UTC) and the virtual clock simulations and tests move by hand."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from wfnb.engine.clock import SystemClock  # one wall clock, shared with the engine
from wfnb.exceptions import WfnbUsageError

__all__ = ["SystemClock", "VirtualClock"]


def _aware(moment: datetime, what: str) -> datetime:
    if moment.utcoffset() is None:
        raise WfnbUsageError(
            f"{what} {moment.isoformat()} is naive; pass an aware datetime "
            "(e.g. datetime(2026, 1, 1, tzinfo=UTC))",
            value=moment,
        )
    return moment.astimezone(UTC)


class VirtualClock:
    """A clock that only moves when told to; time never goes backwards.

    Example:
        >>> clock = VirtualClock(start=datetime(2026, 1, 1, tzinfo=UTC))
        >>> clock.advance(timedelta(days=7)).isoformat()
        '2026-01-08T00:00:00+00:00'
    """

    def __init__(self, start: datetime | None = None) -> None:
        first = start if start is not None else datetime.now(UTC).replace(microsecond=0)
        self._now = _aware(first, "start")
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The current virtual moment (aware, UTC)."""
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by ``delta`` and return the new moment."""
        if delta < timedelta(0):
            raise WfnbUsageError(f"cannot advance a clock by a negative {delta}", value=delta)
        with self._lock:
            self._now += delta
            return self._now

    def set(self, moment: datetime) -> datetime:
        """Jump to ``moment`` (not before the current one) and return it."""
        target = _aware(moment, "moment")
        with self._lock:
            if target < self._now:
                raise WfnbUsageError(
                    f"cannot move the clock back from {self._now.isoformat()} "
                    f"to {target.isoformat()}",
                    value=moment,
                )
            self._now = target
            return self._now

    def __repr__(self) -> str:
        return f"<VirtualClock {self.now().isoformat()}>"

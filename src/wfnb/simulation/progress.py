"""The progress bar of a simulation: virtual days done out of the days to simulate.

One ``DayProgress`` spans a whole run, even one split into several ``run_until`` calls
(the demo switches configs after two months), counts whole virtual days, and ends full:
a 184-day run ends at ``184/184``, never at the last event's day.
"""

from __future__ import annotations

import math
from datetime import datetime
from types import TracebackType
from typing import Any

__all__ = ["DayProgress"]

_DAY = 86400.0


class DayProgress:
    """A tqdm bar of the virtual days from ``start`` to ``end`` (shown when ``enabled``).

    Args:
        start: the first virtual moment.
        end: the last one; the bar's total is the days between them, rounded up.
        enabled: draw the bar (tqdm is imported only then).
        leave: keep the finished bar on screen.
    """

    def __init__(
        self, start: datetime, end: datetime, *, enabled: bool = True, leave: bool = True
    ) -> None:
        self.start = start
        self.end = end
        self.total = max(0, math.ceil((end - start).total_seconds() / _DAY))
        self.done = 0
        self._bar: Any = None
        if enabled:
            from tqdm.auto import tqdm  # noqa: PLC0415  # progress is optional decoration

            self._bar = tqdm(total=self.total, unit="day", leave=leave)

    def to(self, moment: datetime) -> None:
        """The run reached ``moment``: count the whole days since ``start`` (all at ``end``)."""
        if moment >= self.end:
            days = self.total
        else:
            days = min(self.total, int((moment - self.start).total_seconds() // _DAY))
        if days > self.done:
            if self._bar is not None:
                self._bar.update(days - self.done)
            self.done = days

    def close(self) -> None:
        """Remove the bar's hold on the terminal (the count stays where it is)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> DayProgress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

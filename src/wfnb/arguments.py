"""Typed values of command-line and magic arguments, shared by ``wfnb`` and ``%wfnb``.

One parser per kind of value, so the CLI and the magics accept and refuse the same text:

- whole numbers within documented bounds (:data:`MAX_WHOLE` at most: a larger number would
  overflow a SQL ``LIMIT`` or a date and surface as a traceback);
- moments (:func:`parse_moment`): a strict ISO 8601 date or datetime, ``T`` or one space
  between date and time, an offset honoured and converted to UTC, naive meaning UTC.
  ``datetime.fromisoformat`` alone takes any character as the separator and reads
  ``2026-06-01+02:00`` as 02:00 on that day, silently: both are refused here.

Each ``*_type`` returns an argparse type (a bad value raises ``ArgumentTypeError``, which
both parsers turn into one WF400 line).
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from datetime import UTC, datetime

from wfnb.exceptions import WfnbUsageError

__all__ = ["MAX_WHOLE", "parse_moment", "parse_whole", "whole_type"]

MAX_WHOLE = 2**31 - 1
"""The largest whole number any integer option accepts (2,147,483,647)."""

_ISO = re.compile(
    r"\d{4}-\d{2}-\d{2}"
    r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2}(?::?\d{2})?)?)?"
)


def parse_moment(text: str) -> datetime:
    """A strict ISO date or datetime as an aware UTC datetime (naive input means UTC).

    Raises:
        WfnbUsageError: anything else, e.g. ``2026-06-01x10`` or ``2026-06-01+02:00``
            (an offset needs a time) (WF400).
    """
    value = text.strip()
    parsed: datetime | None = None
    if _ISO.fullmatch(value):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
    if parsed is None:
        raise WfnbUsageError(
            f"not an ISO date or datetime: {text!r} (e.g. 2026-06-01, 2026-06-01T10:00, "
            "2026-06-01 10:00+02:00; without an offset it is UTC)",
            value=text,
        )
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def moment_type(text: str) -> datetime:
    """An argparse type: :func:`parse_moment`."""
    try:
        return parse_moment(text)
    except WfnbUsageError as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


def parse_whole(text: str, minimum: int = 0, maximum: int = MAX_WHOLE, hint: str = "") -> int:
    """``text`` as a whole number from ``minimum`` to ``maximum``.

    Raises:
        ValueError: not a whole number, or out of bounds; the message names the bounds.
    """
    try:
        value = int(str(text).strip())
    except ValueError:
        raise ValueError(f"not a whole number: {text!r}") from None
    if value < minimum or value > maximum:
        raise ValueError(f"must be from {minimum} to {maximum}{hint}, got {value}")
    return value


def whole_type(minimum: int = 0, maximum: int = MAX_WHOLE, hint: str = "") -> Callable[[str], int]:
    """An argparse type: a whole number from ``minimum`` to ``maximum`` (both included)."""

    def whole(text: str) -> int:
        try:
            return parse_whole(text, minimum, maximum, hint)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    whole.__name__ = "whole number"  # argparse names the type in its own messages
    return whole

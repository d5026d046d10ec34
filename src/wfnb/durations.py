"""ISO-8601 durations as people read them: ``P14D`` is "14 d", ``PT5M`` "5 min", ``P1M`` "1 month".

One helper for every place a configured delay is shown: the report, diagram labels, the
explorer's timers table. HTML shows the words with the ISO value on hover
(:func:`duration_html`); a malformed value is shown as written.
"""

from __future__ import annotations

from datetime import timedelta
from html import escape

import isodate

__all__ = ["duration_html", "duration_words"]

_UNITS = ((86_400, "d"), (3_600, "h"), (60, "min"), (1, "s"))


def duration_words(iso: str) -> str:
    """``"14 d"``, ``"5 min"``, ``"1 month"``, ``"1 year 2 months"``, ``"1 d 12 h"``.

    Every non-zero part is kept (a configured delay is exact); weeks read as days.
    """
    try:
        parsed = isodate.parse_duration(iso)
    except (isodate.ISO8601Error, ValueError, TypeError):
        return iso
    parts: list[str] = []
    span = parsed
    if isinstance(parsed, isodate.Duration):
        for amount, name in ((parsed.years, "year"), (parsed.months, "month")):
            if amount:
                parts.append(f"{amount:g} {name}{'s' * (amount != 1)}")
        span = parsed.tdelta
    seconds = span.total_seconds() if isinstance(span, timedelta) else 0.0
    for size, name in _UNITS:
        whole, seconds = divmod(seconds, size)
        if whole:
            parts.append(f"{whole:.0f} {name}")
    if seconds:
        parts.append(f"{seconds * 1000:.0f} ms")
    return " ".join(parts) or "0 s"


def duration_html(iso: str) -> str:
    """The words, escaped, with the ISO value on hover (``title``)."""
    words = escape(duration_words(iso))
    return f"<span title='{escape(iso, quote=True)}'>{words}</span>"

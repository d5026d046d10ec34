"""How a wfnb DataFrame reads to a person: no ``nan``, plain durations, short hashes, pages.

``Frame`` is a ``pandas.DataFrame`` whose values keep their full types for code; only its
notebook display (``_repr_html_``) is the readable one. The rules live in ``cell_text``
and ``display_frame``:

- a missing value (``None``, ``NaN``, ``NaT``, ``<NA>``, an empty ``{}``) reads ``—``;
- a duration reads ``19 d 17 h`` (a ``Timedelta``, or ``duration_ms``);
- a moment reads ``2026-10-01 14:03:12`` (UTC, said in the caption);
- a hash or a git revision shows 12 characters, the full value on hover;
- ``from_status``/``to_status`` become one ``transition`` column: ``created → draft``;
- an ``error_message`` wraps, and names a use case by its function (``'register_user_at_hub'``),
  the whole message (with the use case's module path) on hover.

A plain ``pandas.DataFrame`` (a crosstab, a slice) shown after ``%load_ext wfnb`` keeps
pandas' own table (``pandas_html``) in a box that scrolls sideways instead of being cut at
the edge, and a cell pandas cuts (``display.max_colwidth``) ends in ``…`` with its whole
text on hover.

The display pages through ``itables`` (offline: its JavaScript is shipped in the wheel and
embedded once per kernel); without ``itables`` it falls back to a static table of the first
rows. Either way it says how many rows it shows of how many the frame holds, and whether
the read itself was cut by a limit (``attrs["wfnb_total"]``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from html import escape
from typing import Any

import pandas as pd

__all__ = [
    "DISPLAY_LIMIT",
    "MISSING",
    "PAGE",
    "STATIC_ROWS",
    "Frame",
    "cell_text",
    "display_frame",
    "duration_text",
    "frame_html",
    "html_cells",
    "html_table",
    "limit_note",
    "message_html",
    "pandas_html",
    "short_message",
    "text_cells",
]

DISPLAY_LIMIT = 500
"""Most rows a frame's notebook display carries (the frame itself always holds all)."""
PAGE = 10
"""Rows per page of a paged display."""
STATIC_ROWS = 25
"""A frame of at most this many rows is drawn as a static table (no script, no pager)."""
MISSING = "—"
_SHORT = 12
_LONG = 80
"""JSON longer than this shows its start, the whole on hover."""
_HIDDEN = ("id", "entity_table", "correlation_id", "config_rev", "entity_version")
_FIRST = ("changed_at", "failed_at", "workflow", "entity_id", "transition", "status")
_CELL = "padding:3px 10px;text-align:left;vertical-align:top;border-bottom:1px solid #e5e5e5"
_WRAPS = frozenset({"error_message", "metadata", "deviation", "detail", "payload", "reason"})
"""Columns whose long text wraps; every other cell stays on one line."""
_TABLE = "border-collapse:collapse;font-size:90%;margin:4px 0 10px 0"


def duration_text(value: timedelta | pd.Timedelta | float | None, unit: str = "s") -> str:
    """``19 d 17 h``, ``3 h 5 min``, ``4 min 10 s``, ``12 s``, ``340 ms``; missing: ``—``.

    Args:
        value: a timedelta, or a number of ``unit`` (``"s"`` or ``"ms"``).
        unit: the unit of a plain number.
    """
    if value is None or _is_missing(value):
        return MISSING
    if isinstance(value, timedelta):  # pd.Timedelta is one too
        seconds = value.total_seconds()
    else:
        seconds = float(value) / (1000 if unit == "ms" else 1)
    sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
    if seconds < 1:
        return f"{sign}{seconds * 1000:.0f} ms"
    if seconds < 60:  # a minute
        return f"{sign}{seconds:.3g} s"
    parts = []
    for size, name in ((86_400, "d"), (3_600, "h"), (60, "min"), (1, "s")):
        whole, seconds = divmod(seconds, size)
        if whole:
            parts.append(f"{whole:.0f} {name}")
    return sign + " ".join(parts[:2])


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NaT or value is pd.NA:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, dict | list) and not value


def _number(value: float) -> str:
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def _stamp(value: datetime) -> str:
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_convert("UTC") if stamp.tzinfo else stamp
    return str(stamp.strftime("%Y-%m-%d %H:%M:%S"))


def _json(value: dict[str, Any] | list[Any]) -> str:
    return json.dumps(value, default=str, ensure_ascii=False, separators=(", ", ": "))


_FORMATS: tuple[tuple[type | tuple[type, ...], Any], ...] = (
    (bool, lambda v: "yes" if v else "no"),
    (timedelta, duration_text),
    (datetime, _stamp),
    ((int, float), _number),
    ((dict, list), _json),
)


def cell_text(value: Any, column: str = "") -> str:
    """One value as a person reads it (plain text; a hash is cut to 12 characters)."""
    if _is_missing(value):
        return "created" if column == "from_status" else MISSING
    if column == "duration_ms" and isinstance(value, int | float):
        return duration_text(value, "ms")
    if isinstance(value, int) and (column == "id" or column.endswith(("_id", "version"))):
        return str(value)
    for kind, fmt in _FORMATS:
        if isinstance(value, kind):
            return str(fmt(value))
    return str(value)


def _is_hash(column: str) -> bool:
    return column.endswith(("_hash", "_rev")) or column in {"hash", "rev", "sha256"}


_USE_CASE_PATH = re.compile(r"'(?:[A-Za-z_][\w]*\.)*[A-Za-z_]\w*:([A-Za-z_]\w*)'")
"""A use case named by its path, ``'wfnb.examples.energy.datahub:register_user_at_hub'``."""
_WRAP = "display:block;white-space:normal;overflow-wrap:anywhere;min-width:12em;max-width:36em"
"""A message cell: wraps within a readable width, whatever the table's nowrap says."""


def short_message(text: str) -> str:
    """``text`` with every use case's ``'module.path:function'`` shortened to ``'function'``."""
    return _USE_CASE_PATH.sub(r"'\1'", text)


def message_html(text: str) -> str:
    """An error message that wraps, use cases by function name, the whole text on hover."""
    return f"<span title='{escape(text)}' style='{_WRAP}'>{escape(short_message(text))}</span>"


def cell_html(value: Any, column: str = "") -> str:
    """``cell_text`` escaped; a hash shows 12 characters, long JSON 80, the whole on hover.

    An ``error_message`` is ``message_html``: it wraps, a use case reads as its function.
    """
    text = cell_text(value, column)
    if column == "error_message" and isinstance(value, str) and value:
        return message_html(value)
    if _is_hash(column) and len(text) > _SHORT and text != MISSING:
        return f"<span title='{escape(text)}'><code>{escape(text[:_SHORT])}</code></span>"
    if isinstance(value, dict | list) and len(text) > _LONG:
        return f"<span title='{escape(text)}'>{escape(text[: _LONG - 1])}…</span>"
    return escape(text)


def display_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The columns a person sees, in reading order: ``transition`` replaces from/to."""
    columns = [str(c) for c in frame.columns]
    out = frame.copy()
    out.columns = pd.Index(columns)
    if "from_status" in columns and "to_status" in columns:
        moves = [
            f"{cell_text(a, 'from_status')} → {cell_text(b, 'to_status')}"
            for a, b in zip(out["from_status"], out["to_status"], strict=True)
        ]
        at = columns.index("from_status")
        out = out.drop(columns=["from_status", "to_status"])
        out.insert(min(at, len(out.columns)), "transition", moves)
    first = [c for c in _FIRST if c in out.columns]
    return out[first + [c for c in out.columns if c not in first]]


def limit_note(frame: pd.DataFrame) -> str:
    """``1,000 of 8,560 rows — …`` when the read was cut by a limit; else ``""``."""
    total = frame.attrs.get("wfnb_total")
    returned = frame.attrs.get("wfnb_returned")
    if total is None or returned is None or returned >= total or len(frame) != returned:
        return ""
    unit = frame.attrs.get("wfnb_unit", "rows")
    every = "every row" if unit == "rows" else f"all {total:,}"
    hint = frame.attrs.get("wfnb_hint", f"read without a limit for {every}")
    return f"{returned:,} of {total:,} {unit} — {hint}"


def _caption(frame: pd.DataFrame, shown: int) -> str:
    rows = len(frame)
    unit = str(frame.attrs.get("wfnb_unit", "rows"))
    one = {"statuses": "status"}.get(unit, unit.removesuffix("s"))
    parts = [limit_note(frame) or f"{rows:,} {unit if rows != 1 else one}"]
    if shown < rows:
        parts.append(f"this table shows the first {shown:,} (all {rows:,} are in the frame)")
    if any(pd.api.types.is_datetime64_any_dtype(t) for t in frame.dtypes):
        parts.append("times in UTC")
    return " · ".join(parts)


def _cell_style(column: str) -> str:
    return _CELL if column in _WRAPS else f"{_CELL};white-space:nowrap"


def html_table(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    caption: str = "",
    *,
    columns: Sequence[str] | None = None,
) -> str:
    """A static, padded, readable HTML table.

    Each value goes through ``cell_html`` under its column's name: ``columns`` (default:
    the headers), so headers can read as words while the values keep their rules.
    """
    names = list(columns or headers)
    head = "".join(f"<th style='{_CELL}'>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td style='{_cell_style(c)}'>{cell_html(v, c)}</td>"
            for c, v in zip(names, r, strict=False)
        )
        + "</tr>"
        for r in rows
    )
    cap = (
        "<caption style='text-align:left;caption-side:top;font-weight:bold;padding:2px 0'>"
        f"{escape(caption)}</caption>"
    )
    return (
        f"<div style='overflow-x:auto'><table style='{_TABLE}'>{cap if caption else ''}"
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def html_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell of ``display_frame(frame)`` as escaped HTML (what the pager shows)."""
    shown = display_frame(frame)
    return pd.DataFrame(
        {c: [cell_html(v, c) for v in shown[c].tolist()] for c in shown.columns},
        index=range(len(shown)),
        dtype=object,
    )


def text_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell of ``display_frame(frame)`` as plain text (for a pager that escapes)."""
    shown = display_frame(frame)
    return pd.DataFrame(
        {c: [cell_text(v, c) for v in shown[c].tolist()] for c in shown.columns},
        index=range(len(shown)),
        dtype=object,
    )


def _static(head: pd.DataFrame, caption: str) -> str:
    """A plain readable table; the rarely needed columns are named, not drawn."""
    shown = display_frame(head)
    left_out = [c for c in _HIDDEN if c in shown.columns]
    if left_out:
        shown = shown.drop(columns=left_out)
        caption += f" · also in the frame: {', '.join(left_out)}"
    names = list(shown.columns)
    return html_table(names, shown.itertuples(index=False), caption)


def frame_html(frame: pd.DataFrame, *, limit: int | None = None) -> str:
    """The frame as a paged, searchable table (itables, offline), or a static one.

    A frame of at most ``STATIC_ROWS`` rows is a static table: no script, readable
    anywhere a notebook is shown. Longer ones page, up to ``limit`` rows.
    """
    limit = DISPLAY_LIMIT if limit is None else limit
    head = frame.head(limit)
    caption = _caption(frame, len(head))
    if frame.empty:
        return f"<div><b>0 rows</b> {escape(caption) if limit_note(frame) else ''}</div>"
    if len(head) <= STATIC_ROWS:
        return _static(head, caption)
    try:
        from wfnb.frames.pager import pager_html  # noqa: PLC0415  # needs itables
    except ImportError:
        return _static(head, caption)
    cells = html_cells(head)
    return pager_html(cells, caption, hidden=[c for c in _HIDDEN if c in cells.columns])


_BOX = "overflow-x:auto;max-width:100%"
"""A wide table scrolls sideways inside its own box, never cut at the output's edge."""
_HOVER_ROWS = 5_000
"""Up to this many rows, a cut cell carries its full text on hover; beyond, nothing is cut."""


def _cut(value: Any, width: int) -> Any:
    """A text longer than ``width`` as ``start…`` with the whole on hover (escaped HTML)."""
    if isinstance(value, str):
        if len(value) > width:
            return f"<span title='{escape(value)}'>{escape(value[: width - 1])}…</span>"
        return escape(value)
    return value


def _escaped(label: Any) -> Any:
    return escape(label) if isinstance(label, str) else label


def pandas_html(frame: pd.DataFrame) -> str:
    """A plain DataFrame in a notebook: pandas' table, in a box that scrolls sideways.

    pandas cuts text past ``display.max_colwidth`` with ``...`` and no way to read the
    rest; here a cut cell ends in ``…`` and shows its whole text on hover. A ``Frame``
    (or any subclass with its own display) keeps its own ``_repr_html_``.
    """
    own = getattr(type(frame), "_repr_html_", None)
    if own is not None and own is not getattr(pd.DataFrame, "_repr_html_", None):
        return str(own(frame))
    width = pd.get_option("display.max_colwidth")
    options = {
        "notebook": True,
        "max_rows": pd.get_option("display.max_rows"),
        "max_cols": pd.get_option("display.max_columns"),
        "show_dimensions": pd.get_option("display.show_dimensions"),
    }
    with pd.option_context("display.max_colwidth", None):
        if width is None or len(frame) > _HOVER_ROWS or not frame.columns.is_unique:
            table = frame.to_html(**options)  # nothing is cut: the box scrolls
        else:
            texts = frame.select_dtypes(include=["object", "string"]).columns
            shown = frame.copy()
            for column in texts:
                shown[column] = shown[column].map(lambda v: _cut(v, int(width)))
            shown = shown.rename(index=_escaped, columns=_escaped)
            shown.index.names = [_escaped(n) for n in shown.index.names]
            shown.columns.names = [_escaped(n) for n in shown.columns.names]
            table = shown.to_html(escape=False, **options)
    return f"<div class='wfnb-frame' style='{_BOX}'>{table}</div>"


class Frame(pd.DataFrame):
    """A ``DataFrame`` from ``wfnb.frames``: full types for code, a readable display.

    ``attrs`` may say the read was cut: ``wfnb_total`` (rows matching), ``wfnb_returned``.
    """

    @property
    def _constructor(self) -> type[Frame]:
        return Frame

    def _repr_html_(self) -> str:
        return frame_html(self)


def as_frame(frame: pd.DataFrame, attrs: Mapping[str, Any] | None = None) -> Frame:
    """``frame`` as a ``Frame`` (no copy of the data), with ``attrs`` added."""
    out = Frame(frame)
    out.attrs.update(frame.attrs)
    out.attrs.update(attrs or {})
    return out

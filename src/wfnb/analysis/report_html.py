"""The HTML shell of the reviewers' report: page, stylesheet, sections, escaped cells.

Everything here is inline (no network, no external CSS or JavaScript), so the file opens
the same from a mail attachment, a CI artifact or a file share. Every text that comes from
a workflow goes through ``html.escape``; only the drawn SVG is inlined as markup.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

__all__ = [
    "STYLE",
    "Raw",
    "breakable",
    "cells",
    "inline_svg",
    "page",
    "section",
    "slug",
    "use_case",
]

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
       color: #1d2330; line-height: 1.45; font-size: 15px; background: #f6f8fb; }
main { max-width: 1320px; margin: 0 auto; padding: 1.5rem 2rem; background: white; }
h1 { font-size: 1.6rem; } h2 { border-bottom: 2px solid #d0d7e2; padding-top: 1rem; }
h3 { font-size: 1.05rem; margin-bottom: .3rem; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: .4rem 0 1rem; font-size: 14px; }
th, td { border: 1px solid #d0d7e2; padding: .3rem .55rem; text-align: left;
         vertical-align: top; overflow-wrap: break-word; }
td { max-width: 34rem; }
th { background: #eef2f8; }
caption { text-align: left; font-weight: 600; padding: .2rem 0; }
code { background: #f3f5f9; padding: 0 .2rem; }
.desc { color: #4a5263; }
.uc { border-bottom: 1px dotted #8a93a6; cursor: help; }
.wfnb-diagram button { font-size: 13px; min-width: 2rem; }
.wfnb-view { background: white; cursor: grab; }
.ok { color: #17663a; } .bad { color: #a4161a; } .muted { color: #6b7385; }
nav ul { columns: 2; }
"""


class Raw(str):
    """Markup that ``cells`` puts in as it is (everything else is escaped)."""

    __slots__ = ()


def breakable(text: str | None) -> Raw | None:
    """``text`` escaped, with a line-break opportunity after each ``_``.

    Long identifiers such as ``pending_admin_approval`` then wrap in a narrow column
    instead of widening the table past the page.
    """
    if text is None:
        return None
    return Raw(escape(text).replace("_", "_<wbr>"))


def use_case(name: str | None, module: str | None = None) -> Raw | None:
    """A use case by its function name; its full Python path on hover (``title``).

    ``module`` is the workflow's ``use_cases`` module, which a bare name lives in.
    """
    if not name:
        return None
    short = name.rsplit(":", 1)[-1] if ":" in name else name
    full = name if ":" in name or not module else f"{module}:{name}"
    shown = escape(short).replace("_", "_<wbr>")
    return Raw(f"<span class='uc' title='{escape(full, quote=True)}'>{shown}</span>")


def slug(name: str) -> str:
    """An id attribute for ``name`` (workflow names are already ``[a-z][a-z0-9_]*``)."""
    return "wf-" + re.sub(r"[^a-z0-9_-]", "-", name.lower())


def cells(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], *, caption: str = "", empty: str = ""
) -> str:
    """An escaped table; ``None`` renders empty; no rows renders ``empty`` (when given)."""
    rows = list(rows)
    if not rows and empty:
        return f"<p class='muted'>{escape(empty)}</p>"
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_cell(c)}</td>" for c in row) + "</tr>" for row in rows)
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    table = f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    return f"<div class='scroll'>{table}</div>"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return str(value) if isinstance(value, Raw) else escape(str(value))


_SVG_ID = re.compile(r"""(\bid=["']|url\(#|href=["']#)""")


def inline_svg(svg: str, prefix: str) -> str:
    """SVG text ready to sit inside HTML beside other drawings.

    The XML prolog and DOCTYPE are dropped, and every id (``graph0``, ``node1``, ...) and
    reference to one gets ``prefix``, so two inline drawings never share an id.
    """
    start = svg.find("<svg")
    if start < 0:
        return ""
    return _SVG_ID.sub(lambda m: m.group(0) + prefix, svg[start:])


def section(title: str, body: str, *, level: int = 3) -> str:
    """A titled block (the title escaped, the body already HTML)."""
    return f"<section><h{level}>{escape(title)}</h{level}>{body}</section>"


def page(title: str, body: str, script: str = "") -> str:
    """A complete, self-contained HTML5 document (``script``: inline, run at the end)."""
    tail = f"<script>{script}</script>" if script else ""
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><main>{body}</main>{tail}</body></html>\n"
    )

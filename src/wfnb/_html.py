"""Small, dependency-free HTML for objects that display themselves: tables, a diagram viewer.

The viewer (``diagram_viewer``) is shared by ``Diagram._repr_html_`` and the report: a
drawing fits the column down to the size where its smallest label is 11 CSS pixels, and
pans and zooms beyond that (docs/adr/0034).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from html import escape
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wfnb.spec import Workflow, Workflows

__all__ = [
    "PT_TO_PX",
    "SMALLEST_LABEL_PX",
    "VIEWER_SCRIPT",
    "diagram_viewer",
    "step_name_html",
    "table",
    "use_case_html",
    "workflow_html",
    "workflows_html",
]

_STYLE = "border-collapse:collapse;font-size:90%"


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], caption: str = "") -> str:
    """An escaped HTML table; ``None`` cells render empty."""
    head = "".join(f"<th style='text-align:left'>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{'' if c is None else escape(str(c))}</td>" for c in row) + "</tr>"
        for row in rows
    )
    cap = f"<caption style='text-align:left'>{escape(caption)}</caption>" if caption else ""
    return (
        f"<table style='{_STYLE}'>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def use_case_html(name: str | None, module: str | None = None) -> str:
    """A use case by its function name, its full Python path on hover (``title``)."""
    if not name:
        return ""
    short = name.rsplit(":", 1)[-1] if ":" in name else name
    full = name if ":" in name or not module else f"{module}:{name}"
    return (
        f"<span title='{escape(full, quote=True)}' style='border-bottom:1px dotted #8a93a6;"
        f"cursor:help'>{escape(short)}</span>"
    )


def step_name_html(key: str, description: str | None) -> str:
    """A step as people read it: its name in words, its description, then its key."""
    title = key.replace("_", " ").capitalize()
    words = f"<br><span style='color:#4a5263'>{escape(description)}</span>" if description else ""
    return f"<b>{escape(title)}</b> <code>{escape(key)}</code>{words}"


def workflow_html(wf: Workflow) -> str:
    """A workflow as a heading and a steps table.

    Each step's name and description come first; its use cases show by name, with the
    Python path on hover.
    """
    title = f"<b>{escape(wf.name)}</b> <code>{wf.config_hash[:12]}</code>"
    if wf.tenant:
        title += f" as tenant <b>{escape(wf.tenant)}</b> runs it"
    if wf.description:
        title += f" — {escape(wf.description)}"
    module = wf.use_cases
    cell = "<td style='text-align:left;vertical-align:top;padding:3px 8px'>"
    head = "".join(
        f"<th style='text-align:left;padding:3px 8px'>{escape(h)}</th>"
        for h in ("step", "at", "who", "→ success", "→ rejection", "claim", "validation",
                  "action", "overrides")
    )  # fmt: skip
    rows = []
    for s in wf.steps:
        values = [
            step_name_html(s.key, s.description),
            escape(s.status),
            escape(", ".join(s.requester_types or ["(all)"])),
            escape(s.successful_state),
            escape(s.rejection.state) if s.rejection else "",
            escape(s.claim.status) if s.claim else "",
            use_case_html(s.validation, module),
            use_case_html(s.action, module),
            escape(", ".join(s.overrides)),
        ]
        rows.append("<tr>" + "".join(f"{cell}{v}</td>" for v in values) + "</tr>")
    note = "<small style='color:#6b7385'>Hover a use case for its Python path.</small>"
    steps = (
        f"<table style='{_STYLE}'><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
    return f"<div>{title}<br>{note}{steps}</div>"


def workflows_html(wfs: Workflows) -> str:
    """Loaded workflows as one summary table (a tenants column when any has an overlay)."""
    rows: list[tuple[object, ...]] = [
        (
            w.name,
            w.entity.table,
            len(w.status_types),
            len(w.steps),
            len(w.timers),
            w.config_hash[:12],
        )
        for w in wfs.values()
    ]
    headers = ["workflow", "table", "statuses", "steps", "timers", "config"]
    if any(w.tenant_configs for w in wfs.values()):
        headers.append("tenant overlays")
        tenants = [", ".join(sorted(w.tenant_configs)) for w in wfs.values()]
        rows = [(*row, shown) for row, shown in zip(rows, tenants, strict=True)]
    return table(headers, rows)


PT_TO_PX = 4 / 3
"""Graphviz draws in points; a browser shows 1 pt as 4/3 px."""

SMALLEST_LABEL_PX = 11.0
"""No diagram is shown so small that a label falls under this many CSS pixels."""

_SVG_SIZE = re.compile(r'<svg\b([^>]*?)\swidth="([\d.]+)pt"\s+height="([\d.]+)pt"')

VIEWER_SCRIPT = """
(function () {
  document.querySelectorAll('.wfnb-diagram:not([data-ready])').forEach(function (box) {
    box.setAttribute('data-ready', '1');
    var svg = box.querySelector('svg'); if (!svg) { return; }
    var least = parseFloat(box.getAttribute('data-min-width'));
    var most = parseFloat(box.getAttribute('data-max-width'));
    var view = box.querySelector('.wfnb-view');
    var opening = svg.getAttribute('style');
    var width = function () { return svg.getBoundingClientRect().width; };
    var fitted = function () {  // the width at which the whole drawing fits the box
      var vb = svg.viewBox && svg.viewBox.baseVal;
      var tall = parseFloat(getComputedStyle(view).maxHeight), w = view.clientWidth;
      if (vb && vb.width && vb.height && tall) {
        w = Math.min(w, (tall - 4) * vb.width / vb.height);
      }
      return Math.floor(w);
    };
    var set = function (w) {
      w = Math.max(Math.min(least, fitted()), Math.min(most * 2, w));
      svg.style.width = w + 'px'; svg.style.maxWidth = 'none'; svg.style.minWidth = '0';
    };
    // With the script: no scrollbar over the drawing; drag pans, the buttons zoom and fit.
    // Without it (a saved, untrusted notebook; nbconvert) the box keeps overflow:auto.
    view.style.overflow = 'hidden';
    view.scrollLeft = 0; view.scrollTop = 0;  // open on the top left, where the title is
    box.querySelectorAll('button[data-zoom]').forEach(function (b) {
      b.addEventListener('click', function () {
        var z = b.getAttribute('data-zoom');
        if (z === 'fit') { set(fitted()); }
        else if (z === '100') { svg.setAttribute('style', opening); }
        else { set(width() * (z === 'in' ? 1.25 : 0.8)); }
        if (z === 'fit' || z === '100') { view.scrollLeft = 0; view.scrollTop = 0; }
      });
    });
    var drag = null;
    view.addEventListener('mousedown', function (e) {
      if (e.offsetX > view.clientWidth || e.offsetY > view.clientHeight) { return; }  // scrollbar
      drag = {x: e.clientX, y: e.clientY, l: view.scrollLeft, t: view.scrollTop};
      view.style.cursor = 'grabbing'; e.preventDefault();
    });
    window.addEventListener('mousemove', function (e) {
      if (!drag) { return; }
      view.scrollLeft = drag.l - (e.clientX - drag.x);
      view.scrollTop = drag.t - (e.clientY - drag.y);
    });
    window.addEventListener('mouseup', function () { drag = null; view.style.cursor = ''; });
  });
})();
"""
"""Pan (drag) and zoom (buttons) for ``diagram_viewer``: "fit" shows the whole drawing in the
box (labels may then be under the legible size: the reader asked), "100%" returns to the
opening size."""


def diagram_viewer(svg: str, *, label_pt: float = 10.0, script: bool = True) -> str:
    """An SVG drawing in a box that fits the column and keeps every label legible.

    The drawing scales down to the column's width, but never below the size at which its
    smallest label (``label_pt`` points in the drawing) is :data:`SMALLEST_LABEL_PX`; a
    drawing larger than that opens at the legible size on its top left (where the title
    is), in a box with scrollbars that also pans by dragging. Zoom buttons: smaller,
    larger, "fit" (the whole drawing in the box, even under the legible size) and "100%"
    (back to the opening size). Without scripts (an untrusted notebook, a widget) the box
    scrolls. The SVG's ``width``/``height`` attributes move into a style so it scales with
    its ``viewBox``.

    Args:
        svg: the drawing (``<svg ...>`` with ``width="..pt" height="..pt"``).
        label_pt: the smallest font size used in the drawing, in points.
        script: include the pan/zoom script (a page that already has it sets ``False``).
    """
    start = svg.find("<svg")
    body = svg[start:] if start >= 0 else svg
    found = _SVG_SIZE.search(body)
    if found is None:
        return f"<div class='wfnb-diagram'>{body}</div>"
    width_px = float(found.group(2)) * PT_TO_PX
    least = min(width_px, math.ceil(width_px * SMALLEST_LABEL_PX / (label_pt * PT_TO_PX)))
    style = f"width:100%;max-width:{width_px:.0f}px;min-width:{least:.0f}px;height:auto"
    body = _SVG_SIZE.sub(lambda m: f'<svg{m.group(1)} style="{style}"', body, count=1)
    tools = (
        "<div class='wfnb-tools' style='font:12px sans-serif;color:#555;padding:2px 0'>"
        "<button type='button' data-zoom='out' title='smaller'>&minus;</button> "
        "<button type='button' data-zoom='fit' title='the whole drawing in the box (labels "
        "may get small)'>fit</button> <button type='button' data-zoom='100' title='back to "
        "the opening size (labels at least 11 px)'>100%</button> <button type='button' "
        "data-zoom='in' title='larger'>+</button> drag the drawing to pan; fit shows it whole</div>"
    )
    box = (
        f"<div class='wfnb-diagram' data-min-width='{least:.0f}' data-max-width='{width_px:.0f}'>"
        f"{tools}<div class='wfnb-view' style='max-width:100%;overflow:auto;max-height:85vh;"
        f"border:1px solid #d0d7e2'>{body}</div></div>"
    )
    return box + (f"<script>{VIEWER_SCRIPT}</script>" if script else "")

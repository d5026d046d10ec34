"""How a ``DryRun`` shows itself in a notebook: the diff, history, events, timers, why."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

from wfnb._html import table

if TYPE_CHECKING:
    from wfnb.sandbox.dryrun import DryRun

__all__ = ["dry_run_html"]

_CHANGED = "background:#fff3b0;font-weight:bold"
_LOG_COLUMNS = ("kind", "step_key", "from_status", "to_status", "metadata", "changed_at")


def _cell(value: Any, style: str = "") -> str:
    text = "" if value is None else escape(str(value))
    return f"<td style='{style}'>{text}</td>" if style else f"<td>{text}</td>"


def _diff(dr: DryRun) -> str:
    before, after = dr.before or {}, dr.after or {}
    changed = dr.changes
    rows = "".join(
        f"<tr><th style='text-align:left'>{escape(k)}</th>"
        + _cell(before.get(k), _CHANGED if k in changed else "")
        + _cell(after.get(k), _CHANGED if k in changed else "")
        + "</tr>"
        for k in dict.fromkeys([*before, *after])
    )
    head = "<tr><th></th><th style='text-align:left'>before</th>"
    head += "<th style='text-align:left'>after</th></tr>"
    style = "border-collapse:collapse;font-size:90%"
    return f"<table style='{style}'><thead>{head}</thead><tbody>{rows}</tbody></table>"


def dry_run_html(dr: DryRun) -> str:
    """The dry-run as HTML: headline, why, entity diff (changed cells marked), then logs."""
    r = dr.result
    headline = (
        f"<b>dry-run</b> {escape(r.workflow)} / {escape(r.entity_id)}: "
        f"<b>{escape(r.outcome.value)}</b> "
        f"{escape(str(r.from_status))} → {escape(str(r.final_status))}"
    )
    parts = [headline]
    if dr.why:
        parts.append(f"<div style='color:#a00'>why: {escape(dr.why)}</div>")
    parts.append(_diff(dr))
    history = [[row.get(c) for c in _LOG_COLUMNS] for row in dr.history]
    parts.append(table(list(_LOG_COLUMNS), history, caption="history rows it would write"))
    if dr.failures:
        cols = ["status", "step_key", "error_code", "error_message"]
        rows = [[row.get(c) for c in cols] for row in dr.failures]
        parts.append(table(cols, rows, caption="failure-log rows"))
    events = [[e.name, dict(e.payload)] for e in dr.events]
    parts.append(table(["event", "payload"], events, caption="events it would emit"))
    timers = [[t.timer_key, t.step, t.status, t.due_at.isoformat()] for t in dr.timers]
    parts.append(table(["timer", "step", "at", "due"], timers, caption="timers it would arm"))
    return "<div>" + "<br>".join(parts) + "</div>"

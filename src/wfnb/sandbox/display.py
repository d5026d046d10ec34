"""How a ``DryRun`` shows itself in a notebook: the diff, history, events, timers, why.

A dry-run that did nothing because of a mistake (unknown entity, unknown step, no step
applies, a bad payload) reads as one coded line; one that ran shows its headline, the
columns it changed (the others folded away), and only the tables that have rows.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

from wfnb.engine.results import Outcome
from wfnb.frames.display import cell_html, cell_text, html_table

if TYPE_CHECKING:
    from wfnb.sandbox.result import DryRun

__all__ = ["dry_run_html"]

_CHANGED = "background:#fff3b0;font-weight:bold"
_CELL = "padding:3px 10px;text-align:left;vertical-align:top;border-bottom:1px solid #e5e5e5"
_ERROR = "<div style='color:#b00020'><b>{}</b>{}</div>"
_LOG_COLUMNS = ("changed_at", "kind", "step_key", "from_status", "to_status", "metadata")
_LOG_HEADERS = ("when", "kind", "step", "from", "to", "metadata")


def _row(key: str, before: Any, after: Any, style: str) -> str:
    cells = "".join(
        f"<td style='{_CELL}{';' + style if style else ''}'>{cell_html(v, key)}</td>"
        for v in (before, after)
    )
    return f"<tr><th style='{_CELL}'>{escape(key)}</th>{cells}</tr>"


def _diff(dr: DryRun) -> str:
    """The changed columns, marked; the unchanged ones folded under a summary line."""
    before, after = dr.before or {}, dr.after or {}
    changed = dr.changes
    keys = list(dict.fromkeys([*before, *after]))
    head = f"<tr><th style='{_CELL}'></th><th style='{_CELL}'>before</th>"
    head += f"<th style='{_CELL}'>after</th></tr>"
    style = "border-collapse:collapse;font-size:90%"

    def block(names: list[str], mark: str) -> str:
        rows = "".join(_row(k, before.get(k), after.get(k), mark) for k in names)
        return f"<table style='{style}'><thead>{head}</thead><tbody>{rows}</tbody></table>"

    moved = [k for k in keys if k in changed]
    same = [k for k in keys if k not in changed]
    parts = [block(moved, _CHANGED) if moved else "<div>no column of the entity changes</div>"]
    if same:
        parts.append(
            f"<details><summary>{len(same)} column{'s' * (len(same) != 1)} unchanged"
            f"</summary>{block(same, '')}</details>"
        )
    return "".join(parts)


def _mistake(dr: DryRun) -> str | None:
    """One coded line when the call stopped before running anything; else None."""
    r = dr.result
    if r.error is None or dr.history or dr.changes:
        return None
    line = dr.why or r.error.one_line()
    where = ""
    if r.from_status is not None:
        where = f" — {escape(str(r.entity_id))} stays at {escape(str(r.from_status))}"
    return _ERROR.format(escape(line), where)


def _why(dr: DryRun) -> str | None:
    """``dr.why``; a rejection says so with its use case's ``code``, when it gave one.

    ``rejected (reason_required): a reason is required for this step``.
    """
    why = dr.why
    r = dr.result
    last = r.chain[-1] if r.chain else r
    rejection = next(
        (x for x in (r, last) if x.error is None and x.outcome is Outcome.REJECTED), None
    )
    if not why or rejection is None:
        return why
    code = rejection.metadata.get("code")
    return f"rejected ({code}): {why}" if isinstance(code, str) and code else f"rejected: {why}"


def dry_run_html(dr: DryRun) -> str:
    """The dry-run as HTML: headline, why, entity diff (changed cells marked), then logs."""
    mistake = _mistake(dr)
    if mistake is not None:
        return mistake
    r = dr.result
    if r.from_status is not None and r.from_status == r.final_status:
        move = f"(stays at {r.from_status})"
    else:
        move = " → ".join(cell_text(s) for s in (r.from_status, r.final_status) if s is not None)
    headline = (
        f"<b>dry-run</b> {escape(r.workflow)} / {escape(str(r.entity_id))}: "
        f"<b>{escape(r.outcome.value)}</b> {escape(move)}"
        " <span style='color:#555'>(in a sandbox: nothing was written)</span>"
    )
    parts = [headline]
    why = _why(dr)
    if why:
        parts.append(f"<div style='color:#a00'>why: {escape(why)}</div>")
    parts.append(_diff(dr))
    if dr.history:
        rows = [[row.get(c) for c in _LOG_COLUMNS] for row in dr.history]
        parts.append(
            html_table(_LOG_HEADERS, rows, "history rows it would write", columns=_LOG_COLUMNS)
        )
    if dr.failures:
        cols = ["status", "step_key", "error_code", "error_message"]
        rows = [[row.get(c) for c in cols] for row in dr.failures]
        parts.append(html_table(cols, rows, "failure-log rows it would write"))
    if dr.events:
        events = [[e.name, dict(e.payload)] for e in dr.events]
        parts.append(html_table(["event", "payload"], events, "events it would emit"))
    if dr.timers:
        timers = [[t.timer_key, t.step, t.status, t.due_at] for t in dr.timers]
        parts.append(
            html_table(["timer", "step", "at", "due"], timers, "timers it would arm (UTC)")
        )
    quiet = [
        name
        for name, rows in (
            ("history rows", dr.history),
            ("events", dr.events),
            ("timers", dr.timers),
        )
        if not rows
    ]
    if quiet:
        parts.append(f"<div style='color:#555'>no {', no '.join(quiet)}</div>")
    return "<div>" + "<br>".join(parts) + "</div>"

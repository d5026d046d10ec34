"""Small, dependency-free HTML tables for objects that display themselves in notebooks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wfnb.spec import Workflow, Workflows

__all__ = ["table", "workflow_html", "workflows_html"]

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


def workflow_html(wf: Workflow) -> str:
    """A workflow as a heading and a steps table."""
    title = f"<b>{escape(wf.name)}</b> <code>{wf.config_hash[:12]}</code>"
    if wf.description:
        title += f" — {escape(wf.description)}"
    rows = [
        (
            s.key,
            s.status,
            ", ".join(s.requester_types or ["(all)"]),
            s.validation,
            s.action,
            s.successful_state,
            s.rejection.state if s.rejection else None,
            s.claim.status if s.claim else None,
            ", ".join(s.overrides),
        )
        for s in wf.steps
    ]
    headers = ["step", "at", "who", "validation", "action", "→ success", "→ rejection", "claim"]
    return f"<div>{title}<br>" + table([*headers, "overrides"], rows) + "</div>"


def workflows_html(wfs: Workflows) -> str:
    """Loaded workflows as one summary table."""
    rows = [
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
    return table(["workflow", "table", "statuses", "steps", "timers", "config"], rows)

"""``report()``: one self-contained HTML file a reviewer reads instead of the JSON.

Per workflow: the diagram (inline SVG), its statuses, steps (overrides, claims, use
cases), timers, observed transitions, paths (shortest path per terminal status, counts,
unreachable statuses, dead ends), the validator's findings, and, given a database, the
conformance of its recorded history.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from html import escape
from pathlib import Path

import sqlalchemy as sa

from wfnb.analysis.conformance import ConformanceReport, conformance
from wfnb.analysis.diagram import diagram
from wfnb.analysis.paths import PathReport, paths
from wfnb.analysis.report_html import cells, inline_svg, page, section, slug
from wfnb.exceptions import WfnbUsageError
from wfnb.problems import Problem
from wfnb.spec import Step, Workflow

__all__ = ["report", "report_html"]

_TOP_DEVIATIONS = 50


def _overrides(step: Step) -> str:
    parts = []
    for requester, override in step.overrides.items():
        changed = override.model_dump(exclude_none=True, by_alias=True)
        fields = ", ".join(f"{k}={v}" for k, v in changed.items())
        parts.append(f"{requester}: {fields}")
    return "; ".join(parts)


def _statuses(wf: Workflow) -> str:
    rows = []
    for status in wf.status_types:
        roles = [
            role
            for role, on in (
                ("initial", status == wf.initial_status),
                ("terminal", status in wf.terminal_statuses),
                ("failure", status in wf.failure_statuses),
                ("claim", status in wf.claim_statuses),
            )
            if on
        ]
        steps = ", ".join(s.key for s in wf.steps_at(status))
        timers = ", ".join(f"{t.key} ({t.after})" for t in wf.timers_at(status))
        rows.append((status, ", ".join(roles), steps, timers))
    return cells(["status", "role", "steps", "timers"], rows)


def _steps(wf: Workflow) -> str:
    rows = [
        (
            s.key,
            s.status,
            ", ".join(s.requester_types) if s.requester_types else "(all)",
            s.validation,
            s.action,
            s.successful_state,
            f"{s.rejection.state}" + (f" ({s.rejection.action})" if s.rejection.action else "")
            if s.rejection
            else None,
            f"{s.claim.status} (stale after {s.claim.stale_after})" if s.claim else None,
            "yes" if s.auto_advance else "",
            _overrides(s),
        )
        for s in wf.steps
    ]
    headers = ["step", "at", "who", "validation", "action", "→ success", "→ rejection", "claim"]
    return cells([*headers, "auto-advance", "overrides"], rows)


def _timers_and_observed(wf: Workflow) -> str:
    timers = cells(
        ["timer", "at", "after", "runs step", "as"],
        [(t.key, t.status, t.after, t.step, t.requester_type) for t in wf.timers],
        empty="No timers.",
    )
    observed = cells(
        ["from", "to", "source"],
        [(o.from_, o.to, o.source) for o in wf.observed_transitions],
        empty="No observed transitions.",
    )
    return section("Timers", timers) + section("Observed transitions", observed)


def _paths(p: PathReport) -> str:
    facts = cells(
        ["property", "value"],
        [
            ("unreachable statuses", ", ".join(p.unreachable) or "none"),
            ("dead ends", ", ".join(p.dead_ends) or "none"),
            ("cycles", f"{len(p.cycles)}{'+' if p.cycles_truncated else ''}"),
        ],
    )
    terminals = cells(
        ["terminal status", "paths", "shortest path"],
        [
            (t, p.count_text(t), " → ".join(path) if path else "unreachable")
            for t, path in p.shortest.items()
        ],
    )
    return facts + terminals


def _problems(problems: Iterable[Problem]) -> str:
    return cells(
        ["code", "severity", "where", "message"],
        [(p.code, str(p.severity), f"{p.file}:{p.pointer}", p.message) for p in problems],
        empty="No problems: the validator is satisfied.",
    )


def _conformance(k: ConformanceReport, name: str) -> str:
    mine = k.deviations[k.deviations["workflow"] == name]
    configs = k.by_config[k.by_config["workflow"] == name]
    summary = cells(
        ["config", "rev", "rows", "deviating rows", "fitness"],
        [(h[:12], r, n, d, f"{f:.4f}") for _, h, r, n, d, f in configs.itertuples(index=False)],
        empty="No history recorded.",
    )
    top = cells(
        ["entity", "history id", "kind", "detail", "changed at"],
        [
            (d.entity_id, d.history_id, d.kind, d.detail, d.changed_at)
            for d in mine.head(_TOP_DEVIATIONS).itertuples(index=False)
        ],
        caption=f"deviations ({len(mine)}; first {_TOP_DEVIATIONS} shown)",
        empty="No deviations.",
    )
    return summary + top


def _workflow(wf: Workflow, problems: list[Problem], k: ConformanceReport | None) -> str:
    head = f"<h2 id='{slug(wf.name)}'>{escape(wf.name)}</h2>"
    meta = cells(
        ["description", "owning module", "entity table", "use cases", "config", "revision"],
        [
            (
                wf.description,
                wf.owning_module,
                wf.entity.table,
                wf.use_cases,
                wf.config_hash[:12],
                wf.config_rev,
            )
        ],
    )
    drawing = f"<div class='diagram'>{inline_svg(diagram(wf).svg(), slug(wf.name) + '-')}</div>"
    parts = [
        head,
        meta,
        section("Diagram", drawing),
        section("Statuses", _statuses(wf)),
        section("Steps", _steps(wf)),
        _timers_and_observed(wf),
        section("Paths", _paths(paths(wf))),
        section("Validation", _problems(problems)),
    ]
    if k is not None:
        parts.append(section("Conformance of recorded history", _conformance(k, wf.name)))
    return "<article>" + "".join(parts) + "</article>"


def _summary(
    wfs: Mapping[str, Workflow], problems: list[Problem], k: ConformanceReport | None
) -> str:
    rows = []
    for name, wf in wfs.items():
        mine = [p for p in problems if p.workflow == name]
        errors = sum(1 for p in mine if str(p.severity) == "error")
        rows.append(
            (name, len(wf.status_types), len(wf.steps), len(wf.timers), errors, len(mine) - errors)
        )
    headers = ["workflow", "statuses", "steps", "timers", "errors", "warnings"]
    nav = "".join(f"<li><a href='#{slug(n)}'>{escape(n)}</a></li>" for n in wfs)
    body = cells(headers, rows) + f"<nav><ul>{nav}</ul></nav>"
    if k is not None:
        body += (
            f"<p>Conformance: fitness <b>{k.fitness:.4f}</b> over {k.rows} history rows, "
            f"{len(k.deviations)} deviation(s), judged at {escape(str(k.now))}.</p>"
        )
        body += cells(["deviation kind", "count"], sorted(k.counts().items()))
    return body


def report_html(wfs: Mapping[str, Workflow], db: sa.Engine | str | sa.URL | None = None) -> str:
    """The report as one HTML string (see :func:`report`)."""
    from wfnb.validation import validate  # noqa: PLC0415  # validation imports analysis helpers

    if not wfs:
        raise WfnbUsageError("report() needs at least one workflow")
    problems = list(validate(list(wfs.values())).problems)
    k = conformance(db, wfs) if db is not None else None
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    title = f"wfnb review: {', '.join(wfs)}"
    body = (
        f"<header><h1>{escape(title)}</h1><p class='muted'>Generated {stamp}.</p></header>"
        + section("Summary", _summary(wfs, problems, k), level=2)
        + "".join(
            _workflow(wf, [p for p in problems if p.workflow == name], k)
            for name, wf in wfs.items()
        )
    )
    return page(title, body)


def report(
    wfs: Mapping[str, Workflow] | Iterable[Workflow],
    path: str | Path,
    db: sa.Engine | str | sa.URL | None = None,
) -> Path:
    """Write the reviewers' report of ``wfs`` to ``path``: one self-contained HTML file.

    Args:
        wfs: loaded workflows (a ``Workflows`` mapping or an iterable of ``Workflow``).
        path: where to write (parent folders are created).
        db: a database URL or Engine: adds the conformance of its recorded history.

    Returns:
        The path written.

    Raises:
        WfnbUsageError: no workflow given.
        StoreError: with ``db``, the history cannot be read.
    """
    models = dict(wfs) if isinstance(wfs, Mapping) else {w.name: w for w in wfs}
    target = Path(path)
    text = report_html(models, db)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target

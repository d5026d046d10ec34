"""``report()``: one self-contained HTML file a reviewer reads instead of the JSON.

Per workflow: the diagram (inline SVG in a viewer that keeps labels legible; with a
database, weighted by history exactly as ``%wfnb graph --heat`` draws it), its statuses
and steps described in words first (the use cases' Python paths on hover), timers,
observed transitions, paths (every way into each final status), what each requester
type can do alone, the validator's findings, and, given a database, the conformance of
its recorded history judged at a stated moment.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from html import escape
from pathlib import Path, PosixPath, WindowsPath
from urllib.parse import quote

import sqlalchemy as sa

from wfnb._html import VIEWER_SCRIPT, diagram_viewer
from wfnb.analysis.conformance import ConformanceReport, conformance
from wfnb.analysis.conformance_report import shown_of
from wfnb.analysis.diagram import diagram
from wfnb.analysis.heat import history_counts
from wfnb.analysis.paths import PathReport, alone, paths
from wfnb.analysis.render import LABEL_PT
from wfnb.analysis.report_html import (
    Raw,
    breakable,
    cells,
    inline_svg,
    page,
    section,
    slug,
    use_case,
)
from wfnb.durations import duration_html
from wfnb.exceptions import WfnbUsageError
from wfnb.problems import Problem
from wfnb.spec import Step, Workflow

__all__ = ["ReportPath", "report", "report_html"]

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
        timers = Raw(
            ", ".join(
                f"{escape(t.key)} (after {duration_html(t.after)})" for t in wf.timers_at(status)
            )
        )
        words = wf.status_descriptions.get(status)
        rows.append((status, words, ", ".join(roles), steps, timers))
    return cells(["status", "what it means", "role", "steps", "timers"], rows)


def _named(step: Step) -> Raw:
    """The step's name in words, its description, and its key (as it appears in history)."""
    title = step.key.replace("_", " ").capitalize()
    words = f"<br><span class='desc'>{escape(step.description)}</span>" if step.description else ""
    return Raw(f"<b>{escape(title)}</b> <code>{escape(step.key)}</code>{words}")


def _steps(wf: Workflow) -> str:
    module = wf.use_cases
    rows = [
        (
            _named(s),
            breakable(s.status),
            ", ".join(s.requester_types) if s.requester_types else "(all)",
            breakable(s.successful_state + (" (auto-advances)" if s.auto_advance else "")),
            breakable(s.rejection.state) if s.rejection else None,
            Raw(f"{breakable(s.claim.status)} (stale after {duration_html(s.claim.stale_after)})")
            if s.claim
            else None,
            use_case(s.validation, module),
            use_case(s.action, module),
            use_case(s.rejection.action if s.rejection else None, module),
            breakable(_overrides(s)),
        )
        for s in wf.steps
    ]
    headers = ["step", "at", "who", "→ success", "→ rejection", "claim", "validation", "action"]
    table = cells([*headers, "on rejection", "overrides"], rows)
    hint = "<p class='muted'>Hover a use case for its Python path.</p>"
    return hint + table


def _timers_and_observed(wf: Workflow) -> str:
    timers = cells(
        ["timer", "at", "after", "runs step", "as"],
        [
            (t.key, t.status, Raw(duration_html(t.after)), t.step, t.requester_type)
            for t in wf.timers
        ],
        empty="No timers.",
    )
    observed = cells(
        ["from", "to", "source"],
        [(o.from_, o.to, o.source) for o in wf.observed_transitions],
        empty="No observed transitions.",
    )
    return section("Timers", timers) + section("Observed transitions", observed)


def _paths(p: PathReport, wf: Workflow) -> str:
    facts = cells(
        ["property", "value"],
        [
            ("unreachable statuses", ", ".join(p.unreachable) or "none"),
            ("dead ends", ", ".join(p.dead_ends) or "none"),
            ("cycles", f"{len(p.cycles)}{'+' if p.cycles_truncated else ''}"),
        ],
    )
    terminals = cells(
        ["final status", "paths", "shortest path", "entered by (every way in)"],
        [
            (
                t,
                p.count_text(t),
                " → ".join(path) if path else "unreachable",
                "; ".join(f"{label} from {u}" for u, _, label in p.ways_in.get(t, ())),
            )
            for t, path in p.shortest.items()
        ],
    )
    who = alone(wf)
    reach = cells(
        ["requester type", f"alone, from {wf.initial_status}, reaches", "stuck at",
         "also acts at (after others)"],
        who.rows(),
        caption="What can each requester type do alone?",
    )  # fmt: skip
    return facts + terminals + f"<p class='muted'>{escape(who.QUESTION)}</p>" + reach


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
        [
            (h[:12], r, f"{n:,}", f"{d:,}", f"{f:.4f}")
            for _, h, r, n, d, f in configs.itertuples(index=False)
        ],
        empty="No history recorded.",
    )
    top = cells(
        ["entity", "history id", "kind", "detail", "changed at"],
        [
            (d.entity_id, d.history_id, d.kind, d.detail, d.changed_at)
            for d in mine.head(_TOP_DEVIATIONS).itertuples(index=False)
        ],
        caption=shown_of(len(mine), _TOP_DEVIATIONS).removeprefix("all "),
        empty="No deviations.",
    )
    return summary + top


def _drawing(wf: Workflow, db: sa.Engine | str | sa.URL | None) -> str:
    """The diagram; with a database, each edge carries its history rows (the heat).

    A tenant's config (``wf.tenant``) counts only that tenant's rows.
    """
    counts = history_counts(db, wf, tenant_id=wf.tenant) if db is not None else None
    drawn = diagram(wf, highlight=counts, direction="auto")
    svg = inline_svg(drawn.svg(), slug(wf.name) + "-")
    note = (
        "<p class='muted'>Each arrow's number is the count of history rows of its own kind "
        "(step, rejection, claim, release, janitor, observation, timer, permanent failure); "
        "red dashed arrows are rows no declared edge stands for.</p>"
        if counts is not None
        else ""
    )
    return note + diagram_viewer(svg, label_pt=float(LABEL_PT), script=False)


def _workflow(
    wf: Workflow,
    problems: list[Problem],
    k: ConformanceReport | None,
    db: sa.Engine | str | sa.URL | None = None,
) -> str:
    as_run = f" as tenant {wf.tenant} runs it" if wf.tenant else ""
    head = f"<h2 id='{slug(wf.name)}'>{escape(wf.name + as_run)}</h2>"
    meta = cells(
        ["description", "owning module", "entity table", "use cases", "config", "revision"],
        [
            (
                wf.description,
                wf.owning_module,
                wf.entity.table,
                wf.use_cases,
                wf.config_hash[:12] + (f" (overlay {wf.overlay_file})" if wf.tenant else ""),
                wf.config_rev,
            )
        ],
    )
    drawing = _drawing(wf, db)
    parts = [
        head,
        meta,
        section("Diagram" + (" with the history heat" if db is not None else ""), drawing),
        section("Statuses", _statuses(wf)),
        section("Steps", _steps(wf)),
        _timers_and_observed(wf),
        section("Paths: every way to a final status", _paths(paths(wf), wf)),
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
        words = "".join(f"<li>{escape(line)}</li>" for line in k.explained())
        body += (
            f"<p>Conformance: {escape(k.headline())}; judged at "
            f"<b>{escape(k.judged_at())}</b>.</p>"
            f"<ul>{words}</ul>"
        )
        body += cells(["deviation kind", "count"], sorted(k.counts().items()))
    return body


def report_html(
    wfs: Mapping[str, Workflow],
    db: sa.Engine | str | sa.URL | None = None,
    *,
    now: datetime | str | None = None,
    tenant: str | None = None,
) -> str:
    """The report as one HTML string (see :func:`report`)."""
    from wfnb.validation import validate  # noqa: PLC0415  # validation imports analysis helpers

    if not wfs:
        raise WfnbUsageError("report() needs at least one workflow")
    k = conformance(db, wfs, now=now) if db is not None else None  # every tenant's rows
    if tenant is not None:
        wfs = {name: wf.for_tenant(tenant) for name, wf in wfs.items()}
    problems = list(validate(list(wfs.values())).problems)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    title = f"wfnb review: {', '.join(wfs)}" + (f" as tenant {tenant} runs them" if tenant else "")
    judged = f" Conformance judged at {escape(k.judged_at())}." if k is not None else ""
    body = (
        f"<header><h1>{escape(title)}</h1><p class='muted'>Generated {stamp}.{judged}</p>"
        "</header>"
        + section("Summary", _summary(wfs, problems, k), level=2)
        + "".join(
            _workflow(wf, [p for p in problems if p.workflow == name], k, db)
            for name, wf in wfs.items()
        )
    )
    return page(title, body, VIEWER_SCRIPT)


if sys.platform == "win32":  # pragma: no cover - the concrete Path class of the platform
    _PathBase = WindowsPath
else:
    _PathBase = PosixPath


class ReportPath(_PathBase):
    """The written report's path (a ``pathlib.Path``) that a notebook shows as a link."""

    def _repr_html_(self) -> str:
        try:
            shown = os.path.relpath(self)
        except ValueError:  # another drive (Windows)
            shown = str(self.absolute())
        if shown.startswith(".."):  # outside the notebook's folder: an absolute file link
            shown = str(self.absolute())
        href = self.absolute().as_uri() if Path(shown).is_absolute() else quote(shown)
        size = f" ({self.stat().st_size // 1024:,} KiB)" if self.exists() else ""
        return (
            f"<a href='{escape(href, quote=True)}' target='_blank' rel='noopener'>"
            f"{escape(shown)}</a> — the reviewers' report{size}; open it in a browser tab"
        )


def report(
    wfs: Mapping[str, Workflow] | Iterable[Workflow],
    path: str | Path,
    db: sa.Engine | str | sa.URL | None = None,
    *,
    now: datetime | str | None = None,
    tenant: str | None = None,
) -> ReportPath:
    """Write the reviewers' report of ``wfs`` to ``path``: one self-contained HTML file.

    Args:
        wfs: loaded workflows (a ``Workflows`` mapping or an iterable of ``Workflow``).
        path: where to write (parent folders are created).
        db: a database URL or Engine: adds the history heat to each diagram and the
            conformance of the recorded history.
        now: when timers and claims are judged (see :func:`wfnb.conformance`): a datetime,
            ``"end"`` or ``"wall"``; by default the end of the data for the demo, else the
            wall clock. The report states the moment and why.
        tenant: describe and draw each workflow as this tenant runs it (its overlay merged
            in; the base where it has none); the heat counts only its rows, conformance
            covers every tenant's (each row judged by its own config).

    Returns:
        The path written, a ``pathlib.Path`` that displays as a link in a notebook.

    Raises:
        WfnbUsageError: no workflow given.
        StoreError: with ``db``, the history cannot be read.
    """
    models = dict(wfs) if isinstance(wfs, Mapping) else {w.name: w for w in wfs}
    target = ReportPath(path)
    text = report_html(models, db, now=now, tenant=tenant)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target

"""The start-up validator: every check of workflow-format.md, every problem at once.

``validate`` never raises on a configuration problem: it returns a ``ValidationReport``.
``load_workflows`` / ``load_workflow`` raise ``ConfigError`` carrying every problem when any
is an error. Each problem has a stable code, the file, the JSON pointer (RFC 6901) of the
offending value and a message naming it.

Codes and severities (warnings never block):

- WF100 file unreadable, not a regular file, not JSON, or nested deeper than
  ``wfnb.loader.MAX_FILE_DEPTH``; WF101 schema violation; WF111 malformed duration (from
  ``wfnb.loader``). A file with schema problems is still checked for everything else
  when its broken parts can be set aside (see ``context``).
- WF101 also: a status, step key, requester type, observed source, workflow or table name
  longer than the ``workflow_history`` column that stores it (``lengths``).
- WF102 duplicate status, step key or timer key (error); a requester type, terminal or
  failure status listed twice (warning).
- WF103 a status named that ``status_types`` lacks (error).
- WF104 a requester type named that ``requester_types`` lacks, or an override that sets a
  required field (``successful_state``) to null (errors); a step nobody may run, an
  override that never applies, a requester type that can run no step (warnings). A
  ``system_requester_types`` entry that ``requester_types`` lacks (error), or that no step
  or timer runs as (warning: declaring it refuses nothing); one listed twice is WF102.
- WF105 the use-case module does not import, or a use case is missing or not callable.
- WF106 a status unreachable from ``initial_status``, or non-terminal with no way out
  (errors); a status from which no terminal status can be reached (warning).
- WF107 an auto-advance chain that comes back to a step it ran, per requester type.
- WF108 a claim status undeclared, terminal, initial, or a status some step applies at; an
  observed transition out of a claim status (only the engine and the janitor leave one).
- WF109 a timer whose step is missing, applies at another status, or refuses its requester.
- WF110 a step, observed transition or timer leaving a terminal status; a failure status
  that is not terminal.
- WF112 the database disagrees (only with ``db=``): table or column missing, the status
  column's allowed values differ from ``status_types``, or the database cannot be read.
- WF113 two workflows share a name or write the same table's status column.
- WF114 a tenant overlay (``<folder>/tenants/<tenant>/<workflow>.json``) names a workflow,
  step or timer that does not exist, or changes a field an overlay may not (statuses,
  steps' targets, who may run them, claims, rejections; ADR 0105). Every other problem of
  an overlay, or of the config it merges into, carries its usual code and names the
  overlay file (``tenants``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from wfnb.exceptions import ConfigError, WfnbUsageError
from wfnb.loader import Source, SourceLike, parse_source, read_sources
from wfnb.overlays import overlay_sources
from wfnb.problems import Problem
from wfnb.spec import Workflow, Workflows
from wfnb.validation.context import Checked, recover
from wfnb.validation.database import DatabaseLike, check_database
from wfnb.validation.graphcheck import check_auto_advance, check_orphans, transition_graph
from wfnb.validation.lengths import check_lengths
from wfnb.validation.references import (
    check_duplicates,
    check_requesters,
    check_statuses,
    check_system_requesters,
)
from wfnb.validation.report import ValidationReport
from wfnb.validation.rules import check_across, check_claims, check_terminals, check_timers
from wfnb.validation.tenants import check_overlays
from wfnb.validation.usecases import UseCaseResolver, check_use_cases

__all__ = ["ValidationReport", "load_workflow", "load_workflows", "validate"]

log = logging.getLogger(__name__)

Sources = SourceLike | Iterable[SourceLike]


def check_workflow(c: Checked, resolver: UseCaseResolver | None = None) -> Iterator[Problem]:
    """Every per-workflow check (WF101 lengths, WF102-WF110), in the order of the codes."""
    yield from check_lengths(c)
    yield from check_duplicates(c)
    yield from check_statuses(c)
    yield from check_requesters(c)
    yield from check_system_requesters(c)
    yield from check_use_cases(c, resolver or UseCaseResolver())
    yield from check_orphans(c, transition_graph(c.workflow))
    yield from check_auto_advance(c)
    yield from check_claims(c)
    yield from check_timers(c)
    yield from check_terminals(c)


def _name(wf: Workflow | None, data: Any) -> str | None:
    if wf is not None:
        return wf.name
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) else None


def _read(sources: Sources, rev: str | None) -> Iterator[Source]:
    """The sources, each file read once (the same file given twice is one workflow)."""
    try:
        found = read_sources(sources, rev=rev)
    except TypeError as exc:  # not a path, dict or Workflow: the caller's mistake
        kind = type(sources).__name__
        raise WfnbUsageError(f"validate() takes paths, dicts or Workflows, got {kind}") from exc
    seen: set[tuple[str, str | None, str]] = set()
    for source in found:
        if source.text is not None:
            if (source.file, source.rev, source.text) in seen:
                continue
            seen.add((source.file, source.rev, source.text))
        yield source


def _listed(sources: Sources) -> Sources:
    """An iterable of sources as a list (a generator is read once); anything else as is."""
    if isinstance(sources, str | Path | Mapping | Workflow):
        return sources
    try:
        return list(sources)
    except TypeError:
        return sources  # not iterable: ``_read`` says what was given


def _parse(source: Source) -> tuple[Workflow | None, Checked | None, list[Problem]]:
    """The clean model (if any), what can be checked (if anything), the loader's problems."""
    wf, data, found = parse_source(source)
    name = _name(wf, data)
    problems = [replace(p, workflow=name) for p in found]
    checked = Checked(wf, source.file) if wf is not None else recover(source.file, data)
    return wf, checked, problems


def validate(
    sources: Sources,
    db: DatabaseLike | None = None,
    *,
    rev: str | None = None,
    use_cases: Mapping[str, Callable[..., object]] | None = None,
) -> ValidationReport:
    """Check workflows and report every problem; never raises on a configuration problem.

    Args:
        sources: a path (file or folder), a dict, a ``Workflow``, or an iterable of them.
        db: a SQLAlchemy URL or Engine: also check the entity tables there (WF112).
        rev: a git revision: read the files as they were at that commit.
        use_cases: name → callable: these use cases resolve (WF105) although no module
            holds them, as a dry-run would run them (prototypes, ``%%wfnb_usecase``).

    Returns:
        The report: ``.ok``, ``.problems``, ``.workflows`` (those that parsed).

    Raises:
        WfnbUsageError: ``sources`` is not a path, dict, Workflow or an iterable of them.
    """
    problems: list[Problem] = []
    checked: list[Checked] = []
    parsed: dict[str, Workflow] = {}
    resolver = UseCaseResolver(use_cases)  # one import per module for the whole call
    sources = _listed(sources)  # read twice: workflows, then the folders' tenant overlays
    for source in _read(sources, rev):
        wf, c, found = _parse(source)
        problems.extend(found)
        if wf is not None:
            parsed.setdefault(wf.name, wf)
        if c is not None:
            checked.append(c)
            problems.extend(check_workflow(c, resolver))
    problems.extend(check_across(checked))
    if rev is None:  # overlays at a git revision are not read (docs/tenant-overlays.md)
        named = {c.workflow.name for c in checked} | set(parsed)
        found, linked = check_overlays(
            overlay_sources(sources), parsed, named, lambda c: check_workflow(c, resolver)
        )
        problems.extend(found)
        parsed.update(linked)
    if db is not None:
        tenants = {name: list(wf.tenant_configs.values()) for name, wf in parsed.items()}
        problems.extend(check_database(checked, db, tenants))
    return ValidationReport(tuple(problems), Workflows(parsed))


def load_workflows(
    sources: Sources, *, rev: str | None = None, db: DatabaseLike | None = None
) -> Workflows:
    """Load and validate workflows; raise ``ConfigError`` with every problem on any error.

    Warnings do not block: they are logged (logger ``wfnb.validation``).
    """
    report = validate(sources, db, rev=rev)
    if not report.ok:
        raise ConfigError(report.problems)
    for problem in report.warnings:
        log.warning("%s", problem.one_line())
    return report.workflows


def load_workflow(source: SourceLike) -> Workflow:
    """Load and validate exactly one workflow (a file, a dict or a model).

    Raises:
        ConfigError: the workflow has errors (every problem is carried).
        WfnbUsageError: ``source`` holds no workflow or several.
    """
    workflows = load_workflows(source)
    if len(workflows) != 1:
        raise WfnbUsageError(
            f"load_workflow expects one workflow, {source!s} holds {len(workflows)}"
        )
    return next(iter(workflows.values()))

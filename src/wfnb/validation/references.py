"""Checks of names within one workflow: WF102 duplicates, WF103 statuses, WF104 requester types.

A claim status that is not declared is reported once, as WF108 (``rules.check_claims``), not
here. Warnings under WF102/WF104: a requester type or terminal/failure status listed twice,
a step nobody may run, an override for a requester type the step does not allow, a
declared requester type that can run no step, and a system requester type (the optional
``system_requester_types``, ADR 0103) that no step or timer runs as.
"""

from __future__ import annotations

import difflib
from collections.abc import Hashable, Iterable, Iterator, Sequence

from wfnb.problems import Problem, Severity
from wfnb.spec import Workflow
from wfnb.validation.context import Checked

__all__ = [
    "Path",
    "check_duplicates",
    "check_requesters",
    "check_statuses",
    "check_system_requesters",
    "status_references",
]


def _repeats(values: Sequence[Hashable]) -> Iterator[tuple[int, int]]:
    """``(index, first index)`` of every value that appeared before."""
    first: dict[Hashable, int] = {}
    for i, value in enumerate(values):
        if value in first:
            yield i, first[value]
        else:
            first[value] = i


def _hint(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_duplicates(c: Checked) -> Iterator[Problem]:
    """WF102: a status, step key or timer key declared twice (errors); other repeats (warnings)."""
    wf = c.workflow
    lists = (
        ("status_types", wf.status_types, Severity.ERROR),
        ("requester_types", wf.requester_types, Severity.WARNING),
        ("system_requester_types", wf.system_requester_types, Severity.WARNING),
        ("terminal_statuses", wf.terminal_statuses, Severity.WARNING),
        ("failure_statuses", wf.failure_statuses, Severity.WARNING),
    )
    for name, values, severity in lists:
        for i, first in _repeats(values):
            message = f"{values[i]!r} is listed twice in {name} (first at {c.at(name, first)})"
            yield c.problem("WF102", c.at(name, i), message, severity)
    for name, keys in (
        ("steps", [s.key for s in wf.steps]),
        ("timers", [t.key for t in wf.timers]),
    ):
        for i, first in _repeats(keys):
            message = f"duplicate {name[:-1]} key {keys[i]!r} (first at {c.at(name, first)})"
            yield c.problem("WF102", c.at(name, i, "key"), message)


Path = tuple[str | int, ...]
"""Parts of a JSON pointer, turned into one (``Checked.at``) only when a problem needs it."""


def status_references(wf: Workflow) -> Iterator[tuple[Path, str]]:
    """``(path, status)`` of every status the workflow names, claim statuses excepted."""
    yield ("initial_status",), wf.initial_status
    for i, status in enumerate(wf.terminal_statuses):
        yield ("terminal_statuses", i), status
    for i, status in enumerate(wf.failure_statuses):
        yield ("failure_statuses", i), status
    for i, step in enumerate(wf.steps):
        yield ("steps", i, "status"), step.status
        yield ("steps", i, "successful_state"), step.successful_state
        if step.rejection is not None:
            yield ("steps", i, "rejection", "state"), step.rejection.state
        for requester, override in step.overrides.items():
            if override.successful_state is not None:
                yield (
                    ("steps", i, "overrides", requester, "successful_state"),
                    override.successful_state,
                )
            if override.rejection is not None:
                yield (
                    ("steps", i, "overrides", requester, "rejection", "state"),
                    override.rejection.state,
                )
    for i, seen in enumerate(wf.observed_transitions):
        yield ("observed_transitions", i, "from"), seen.from_
        yield ("observed_transitions", i, "to"), seen.to
    for i, timer in enumerate(wf.timers):
        yield ("timers", i, "status"), timer.status


def check_statuses(c: Checked) -> Iterator[Problem]:
    """WF103: every status named anywhere is declared in ``status_types``."""
    declared = set(c.workflow.status_types)
    for path, status in status_references(c.workflow):
        if status not in declared:
            hint = _hint(status, declared)
            yield c.problem("WF103", c.at(*path), f"status {status!r} is not in status_types{hint}")


def check_requesters(c: Checked) -> Iterator[Problem]:
    """WF104: every requester type named is declared; unused or useless ones are warned about."""
    wf = c.workflow
    declared = set(wf.requester_types)
    used: set[str] = set()

    def undeclared(where: str, requester: str, what: str) -> Problem:
        hint = _hint(requester, declared)
        message = f"{what} {requester!r} is not in requester_types{hint}"
        return c.problem("WF104", where, message)

    for i, step in enumerate(wf.steps):
        allowed = step.requester_types
        used.update(declared if allowed is None else allowed)
        for j, requester in enumerate(allowed or ()):
            if requester not in declared:
                where = c.at("steps", i, "requester_types", j)
                yield undeclared(where, requester, "requester type")
        if allowed == ():
            message = f"step {step.key!r} lists no requester type: nobody may run it"
            where = c.at("steps", i, "requester_types")
            yield c.problem("WF104", where, message, Severity.WARNING)
        for requester, override in step.overrides.items():
            where = c.at("steps", i, "overrides", requester)
            if "successful_state" in override.removed:
                message = (
                    f"override for {requester!r} sets successful_state of step {step.key!r} "
                    "to null: a required field cannot be removed (leave it out to keep it)"
                )
                yield c.problem(
                    "WF104", c.at("steps", i, "overrides", requester, "successful_state"), message
                )
            if requester not in declared:
                yield undeclared(where, requester, "override for requester type")
            elif not step.allows(requester):
                message = (
                    f"override for {requester!r} never applies: "
                    f"step {step.key!r} does not allow {requester!r}"
                )
                yield c.problem("WF104", where, message, Severity.WARNING)
    for i, timer in enumerate(wf.timers):
        used.add(timer.requester_type)
        if timer.requester_type not in declared:
            where = c.at("timers", i, "requester_type")
            yield undeclared(where, timer.requester_type, "timer requester type")
    for requester in dict.fromkeys(wf.requester_types):
        if requester not in used:
            message = f"requester type {requester!r} may run no step"
            where = c.at("requester_types", wf.requester_types.index(requester))
            yield c.problem("WF104", where, message, Severity.WARNING)


def check_system_requesters(c: Checked) -> Iterator[Problem]:
    """WF104: each system requester type is declared (error) and runs something (warning).

    A system requester type only a cron context may use (ADR 0103) must be one of
    ``requester_types``; one that no step allows and no timer runs as refuses nothing,
    which is most likely a typo or a leftover.
    """
    wf = c.workflow
    declared = set(wf.requester_types)
    runs = {t.requester_type for t in wf.timers}
    for step in wf.steps:
        runs.update(declared if step.requester_types is None else step.requester_types)
    for i, requester in enumerate(wf.system_requester_types):
        where = c.at("system_requester_types", i)
        if requester not in declared:
            hint = _hint(requester, declared)
            message = f"system requester type {requester!r} is not in requester_types{hint}"
            yield c.problem("WF104", where, message)
        elif requester not in runs:
            message = (
                f"system requester type {requester!r} runs no step and no timer: "
                "declaring it refuses nothing"
            )
            yield c.problem("WF104", where, message, Severity.WARNING)

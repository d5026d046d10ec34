"""Rules about claims (WF108), timers (WF109), terminal statuses (WF110) and workflow sets (WF113).

Each check reports one problem per offending value and stays quiet about what another code
already covers: a timer at an undeclared status is WF103, not also WF109.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from wfnb.problems import Problem
from wfnb.spec import Claim, Step
from wfnb.validation.context import Checked

__all__ = ["check_across", "check_claims", "check_terminals", "check_timers", "claims"]


def claims(c: Checked) -> Iterator[tuple[str, Claim, Step]]:
    """``(pointer of the claim's status, claim, step as its requester sees it)`` of every claim."""
    for i, step in enumerate(c.workflow.steps):
        if step.claim is not None:
            yield c.at("steps", i, "claim", "status"), step.claim, step
        for requester, override in step.overrides.items():
            if override.claim is not None:
                where = c.at("steps", i, "overrides", requester, "claim", "status")
                yield where, override.claim, step.for_requester(requester)


def _claim_problem(c: Checked, claim: Claim, step: Step, owners: dict[str, str]) -> str | None:
    wf = c.workflow
    status = claim.status
    if status not in wf.status_types:
        return f"claim status {status!r} of step {step.key!r} is not in status_types"
    if wf.is_terminal(status):
        return f"claim status {status!r} of step {step.key!r} is terminal"
    if status in owners:
        return f"claim status {status!r} is also the status of step {owners[status]!r}"
    if status == wf.initial_status:
        return f"claim status {status!r} of step {step.key!r} is the initial status"
    if status == step.successful_state:
        return f"claim status {status!r} of step {step.key!r} is also its successful_state"
    return None


def check_claims(c: Checked) -> Iterator[Problem]:
    """WF108: a claim status is well placed, and no observed transition leaves it.

    A claim status is declared, not terminal, not initial, and no step applies at it; only
    the engine and the owning module's janitor move an entity out of it.
    """
    owners: dict[str, str] = {}
    for step in c.workflow.steps:
        owners.setdefault(step.status, step.key)
    misplaced: set[str] = set()
    for where, claim, step in claims(c):
        message = _claim_problem(c, claim, step, owners)
        if message is not None:
            misplaced.add(claim.status)
            yield c.problem("WF108", where, message)
    held = c.workflow.claim_statuses - misplaced  # a misplaced claim is the problem there
    for i, seen in enumerate(c.workflow.observed_transitions):
        if seen.from_ in held:
            message = (
                f"observed transition (source {seen.source!r}) leaves claim status "
                f"{seen.from_!r}: only the engine and the owning module's janitor move an "
                "entity out of a claim"
            )
            yield c.problem("WF108", c.at("observed_transitions", i, "from"), message)


def check_timers(c: Checked) -> Iterator[Problem]:
    """WF109: a timer's step exists, applies at the timer's status, and allows its requester."""
    wf = c.workflow
    for i, timer in enumerate(wf.timers):
        step = wf.step(timer.step)
        name = f"timer {timer.key!r}"
        if step is None:
            if not c.step_left_out(timer.step):
                message = f"{name} runs step {timer.step!r}, which does not exist"
                yield c.problem("WF109", c.at("timers", i, "step"), message)
        elif timer.status in wf.status_types and step.status != timer.status:
            message = (
                f"{name} at {timer.status!r} runs step {step.key!r}, "
                f"which applies at {step.status!r}"
            )
            yield c.problem("WF109", c.at("timers", i, "step"), message)
        elif timer.requester_type in wf.requester_types and not step.allows(timer.requester_type):
            message = (
                f"{name} runs step {step.key!r} as {timer.requester_type!r}, "
                "which the step does not allow"
            )
            yield c.problem("WF109", c.at("timers", i, "requester_type"), message)


def check_terminals(c: Checked) -> Iterator[Problem]:
    """WF110: nothing leaves a terminal status, and every failure status is terminal."""
    wf = c.workflow
    terminal = set(wf.terminal_statuses)
    for i, step in enumerate(wf.steps):
        if step.status in terminal:
            message = f"step {step.key!r} leaves terminal status {step.status!r}"
            yield c.problem("WF110", c.at("steps", i, "status"), message)
    for i, seen in enumerate(wf.observed_transitions):
        if seen.from_ in terminal:
            message = (
                f"observed transition (source {seen.source!r}) "
                f"leaves terminal status {seen.from_!r}"
            )
            yield c.problem("WF110", c.at("observed_transitions", i, "from"), message)
    for i, timer in enumerate(wf.timers):
        if timer.status in terminal:
            message = f"timer {timer.key!r} is armed at terminal status {timer.status!r}"
            yield c.problem("WF110", c.at("timers", i, "status"), message)
    for i, status in enumerate(wf.failure_statuses):
        if status in wf.status_types and status not in terminal:
            message = f"failure status {status!r} is not in terminal_statuses"
            yield c.problem("WF110", c.at("failure_statuses", i), message)


def check_across(checked: Sequence[Checked]) -> Iterator[Problem]:
    """WF113: workflow names are unique, and no two workflows write one status column."""
    by_name: dict[str, Checked] = {}
    by_column: dict[tuple[str, str], Checked] = {}
    for c in checked:
        wf = c.workflow
        first = by_name.setdefault(wf.name, c)
        if first is not c:
            message = f"workflow name {wf.name!r} is also used in {first.file}"
            yield c.problem("WF113", "/name", message)
        column = (wf.entity.table.lower(), wf.entity.status_column.lower())
        first = by_column.setdefault(column, c)
        if first is not c:
            message = (
                f"table {wf.entity.table!r} (column {wf.entity.status_column!r}) is also "
                f"the state of workflow {first.workflow.name!r} in {first.file}"
            )
            yield c.problem("WF113", "/entity/table", message)

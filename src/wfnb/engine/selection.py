"""Step selection: a pure function of (workflow, status, requester type, optional key).

It returns the step as the requester sees it (``Step.for_requester``: overrides applied)
or raises ``NoStepAppliesError`` (WF202) / ``AmbiguousStepError`` (WF203).
"""

from __future__ import annotations

from wfnb.exceptions import AmbiguousStepError, NoStepAppliesError
from wfnb.spec import Step, Workflow

__all__ = ["applicable", "select_step", "why_not"]


def applicable(workflow: Workflow, status: str, requester_type: str) -> tuple[Step, ...]:
    """Every step at ``status`` that ``requester_type`` may run, in file order, as it sees them."""
    return workflow.steps_for(status, requester_type)


def why_not(step: Step, status: str, requester_type: str) -> str | None:
    """Why ``step`` does not apply (None: it does)."""
    if step.status != status:
        return f"step {step.key!r} applies at {step.status!r}, the entity is at {status!r}"
    if not step.allows(requester_type):
        who = ", ".join(step.requester_types or ())
        return f"step {step.key!r} is for {who}, not {requester_type!r}"
    return None


def select_step(
    workflow: Workflow, status: str, requester_type: str, key: str | None = None
) -> Step:
    """The one step to run, as ``requester_type`` sees it.

    Raises:
        NoStepAppliesError: nothing applies, or the named step does not (WF202).
        AmbiguousStepError: several apply and no key was given (WF203).
    """
    steps = applicable(workflow, status, requester_type)
    if key is not None:
        for step in steps:
            if step.key == key:
                return step
        declared = workflow.step(key)
        reason = (
            f"no step named {key!r}"
            if declared is None
            else why_not(declared, status, requester_type)
        )
        raise NoStepAppliesError(
            f"{workflow.name}: {reason}", step=key, **_fields(workflow, status, requester_type)
        )
    if len(steps) == 1:
        return steps[0]
    fields = _fields(workflow, status, requester_type)
    if not steps:
        raise NoStepAppliesError(
            f"{workflow.name}: no step applies at {status!r} for {requester_type!r}",
            step=None,
            **fields,
        )
    keys = [s.key for s in steps]
    raise AmbiguousStepError(
        f"{workflow.name}: several steps apply at {status!r} for {requester_type!r}: "
        f"{', '.join(keys)}; name one",
        candidates=keys,
        **fields,
    )


def _fields(workflow: Workflow, status: str, requester_type: str) -> dict[str, str]:
    """The structured fields of a WF202/WF203 error."""
    return {"workflow": workflow.name, "status": status, "requester_type": requester_type}

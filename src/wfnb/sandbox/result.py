"""``DryRun``: what one dry-run step would have done, as data and as a display."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wfnb.engine.results import Outcome, StepResult
from wfnb.engine.usecases import Event
from wfnb.exceptions import WfnbError
from wfnb.problems import Problem
from wfnb.timers.port import TimerJob

__all__ = ["DryRun", "Row"]

Row = Mapping[str, Any]
"""A table row as a column → value mapping."""


@dataclass(frozen=True, slots=True)
class DryRun:
    """What ``execute_step`` would have done; nothing of it was written to the source.

    ``problems``: WF112 warnings, one per status the run wrote that the real table does
    not accept yet, each with its one-line migration.
    """

    result: StepResult
    before: Row | None
    after: Row | None
    history: tuple[Row, ...]
    failures: tuple[Row, ...]
    events: tuple[Event, ...]
    timers: tuple[TimerJob, ...]
    problems: tuple[Problem, ...] = ()

    @property
    def changes(self) -> dict[str, tuple[Any, Any]]:
        """Column → ``(before, after)`` for every column the step changed."""
        before, after = self.before or {}, self.after or {}
        return {
            k: (before.get(k), after.get(k))
            for k in dict.fromkeys([*before, *after])
            if before.get(k) != after.get(k)
        }

    @property
    def why(self) -> str | None:
        """The reason of a rejection, or the code and message of a failure; else None."""
        last = self.result.chain[-1] if self.result.chain else self.result
        for r in (self.result, last):
            if r.error is not None:
                return _explain_error(r.error)
            if r.outcome is Outcome.REJECTED:
                return str(r.metadata.get("reason", "rejected"))
        return None

    def __repr__(self) -> str:
        move = " → ".join(str(s) for s in (self.result.from_status, self.result.final_status) if s)
        text = (
            f"<DryRun {self.result.outcome.value} {self.result.workflow}:"
            f"{self.result.entity_id} {move}: {len(self.history)} history, "
            f"{len(self.events)} events, {len(self.timers)} timers>"
        )
        return "\n".join([text, *(f"  {p.code} {p.message}" for p in self.problems)])

    def _repr_html_(self) -> str:
        from html import escape  # noqa: PLC0415  # display-only

        from wfnb.sandbox.display import dry_run_html  # noqa: PLC0415  # display-only

        notes = "".join(
            f"<p><b>{escape(p.code)}</b> {escape(p.message)}</p>" for p in self.problems
        )
        return notes + dry_run_html(self)


def _explain_error(error: WfnbError) -> str:
    own = error.fields.get("failure_code") if hasattr(error, "fields") else None
    suffix = f" ({own})" if own else ""
    return f"{error.code}{suffix}: {' '.join(error.message.split())}"  # one line

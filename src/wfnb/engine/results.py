"""What a call to the engine returns: ``StepResult``, ``Outcome`` and ``HistoryKind``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from wfnb.exceptions import WfnbError

__all__ = ["HistoryKind", "Outcome", "StepResult"]


class Outcome(StrEnum):
    """How a call ended."""

    TRANSITIONED = "transitioned"
    """The step ran and the entity moved to the step's successful state."""
    REJECTED = "rejected"
    """A use case said a business "no": the rejection path ran (or, with none declared,
    nothing changed)."""
    OBSERVED = "observed"
    """An outside transition was recorded (``Engine.observe``)."""
    FAILED = "failed"
    """The step did not go through; ``error`` says why (WF201-WF209). The entity is
    unchanged, except a claim released back (``to_status`` is then the step's status) or a
    permanent failure (``to_status`` is the failure status)."""


class HistoryKind(StrEnum):
    """Why a ``workflow_history`` row was written."""

    INITIATED = "initiated"
    """A step moved the entity (also a permanent failure moving it to a failure status)."""
    REJECTED = "rejected"
    """The rejection path moved the entity."""
    OBSERVED = "observed"
    """An outside transition was recorded; ``source`` names who saw it."""
    CLAIMED = "claimed"
    """The entity entered a claim status before a non-idempotent action."""
    RELEASED = "released"
    """A failed action gave the claim back: the entity returned to the step's status."""
    TIMER = "timer"
    """A timer's step moved the entity."""
    JANITOR = "janitor"
    """The owning module's janitor resolved a stale claim."""
    MANUAL = "manual"
    """A status change made outside the engine (an ``UPDATE`` by hand), written by the
    audit trigger ``Engine.install(audit_trigger=True)`` installs (ADR 0104)."""


@dataclass(frozen=True, slots=True)
class StepResult:
    """The outcome of one step (or observation) on one entity."""

    outcome: Outcome
    workflow: str
    entity_id: str
    step: str | None
    from_status: str | None
    to_status: str | None
    error: WfnbError | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    chain: tuple[StepResult, ...] = ()
    duration_ms: float = 0.0
    correlation_id: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the call did not fail."""
        return self.outcome is not Outcome.FAILED

    @property
    def final_status(self) -> str | None:
        """Where the entity ended after the whole chain (None when nothing changed)."""
        last = self.chain[-1] if self.chain else self
        return last.to_status if last.to_status is not None else self.to_status

    def raise_for_error(self) -> StepResult:
        """Raise ``error`` if the call failed; else return self (for chaining)."""
        if self.error is not None:
            raise self.error
        return self

    def __repr__(self) -> str:
        move = (
            f"{self.from_status}→{self.to_status}" if self.to_status else f"at {self.from_status}"
        )
        err = f" {self.error.code}" if self.error is not None else ""
        code = self.metadata.get("code") if self.outcome is Outcome.REJECTED else None
        if not err and isinstance(code, str) and code:  # a rejection's own code
            err = f" ({code})"
        chain = f" +{len(self.chain)} chained" if self.chain else ""
        return (
            f"<StepResult {self.outcome.value}{err} {self.workflow}:{self.entity_id} "
            f"{self.step or '-'} {move}{chain}>"
        )

    def _repr_html_(self) -> str:
        from wfnb._html import table  # noqa: PLC0415  # display-only

        rows = [self, *self.chain]
        return table(
            ["outcome", "step", "from", "to", "error", "metadata", "ms"],
            [
                (
                    r.outcome.value,
                    r.step,
                    r.from_status,
                    r.to_status,
                    r.error.one_line() if r.error else None,
                    dict(r.metadata) or None,
                    f"{r.duration_ms:.1f}",
                )
                for r in rows
            ],
            caption=f"{self.workflow} / {self.entity_id}",
        )

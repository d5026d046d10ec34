"""``SimulationReport``: what a simulation did, counted as it ran."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from wfnb.engine.results import Outcome, StepResult

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["SimulationReport", "Tally"]


@dataclass
class Tally:
    """Counters a running simulation updates after every engine call."""

    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)
    failures: Counter[tuple[str, str]] = field(default_factory=Counter)
    created: Counter[str] = field(default_factory=Counter)
    timers_fired: int = 0
    timers_stale: int = 0
    permanent_failures: int = 0
    calls: int = 0

    def count(self, result: StepResult, *, failure_statuses: tuple[str, ...] = ()) -> None:
        """Count one result (and its auto-advance chain) by workflow and outcome."""
        self.calls += 1
        for r in (result, *result.chain):
            self.outcomes[r.workflow, r.outcome.value] += 1
            if r.outcome is Outcome.FAILED and r.error is not None:
                self.failures[r.workflow, r.error.code] += 1
            if r.to_status is not None and r.to_status in failure_statuses:
                self.permanent_failures += 1

    def count_timer(self, result: object, *, failure_statuses: tuple[str, ...] = ()) -> None:
        """Count one timer job the queue ran: fired (it moved the entity) or stale (WF202)."""
        if not isinstance(result, StepResult):
            return
        if result.outcome is Outcome.FAILED and result.to_status is None:
            self.timers_stale += 1
            return
        self.timers_fired += 1
        self.count(result, failure_statuses=failure_statuses)


def _counted(title: str, counts: dict[Any, int]) -> str:
    """``title: none``, or the title and one ``name  count`` line per (tuple) key."""
    if not counts:
        return f"{title}: none"
    names = {key: " ".join(key) for key in counts}
    width = max(len(n) for n in names.values())
    rows = [f"  {names[key]:<{width}}  {n:>6,}" for key, n in sorted(counts.items())]
    return "\n".join([f"{title}:", *rows])


@dataclass(frozen=True)
class SimulationReport:
    """The result of ``simulate``: counts, time, and where the history went.

    ``transitions`` counts results per ``(workflow, outcome)`` (``transitioned``,
    ``rejected``, ``observed``, ``failed``), auto-advanced links included; ``failures``
    counts failed results per ``(workflow, error code)``.
    """

    seed: int
    start: datetime
    until: datetime
    created: dict[str, int]
    transitions: dict[tuple[str, str], int]
    failures: dict[tuple[str, str], int]
    timers_fired: int
    timers_stale: int
    permanent_failures: int
    calls: int
    history_rows: int
    wall_seconds: float
    correlation_prefix: str

    @property
    def transitions_per_second(self) -> float:
        """History rows written per wall-clock second."""
        return self.history_rows / self.wall_seconds if self.wall_seconds > 0 else 0.0

    def to_frame(self) -> pd.DataFrame:
        """One row per (workflow, outcome) with its count."""
        import pandas as pd  # noqa: PLC0415  # optional heavy import, display only

        rows = [
            {"workflow": w, "outcome": o, "count": n}
            for (w, o), n in sorted(self.transitions.items())
        ]
        return pd.DataFrame(rows, columns=["workflow", "outcome", "count"])

    def summary(self) -> dict[str, Any]:
        """The headline numbers as a plain dict (for the CLI and logs)."""
        return {
            "seed": self.seed,
            "period": f"{self.start.isoformat()} .. {self.until.isoformat()}",
            "created": dict(self.created),
            "calls": self.calls,
            "history_rows": self.history_rows,
            "timers_fired": self.timers_fired,
            "timers_stale": self.timers_stale,
            "permanent_failures": self.permanent_failures,
            "failures": {f"{w}:{c}": n for (w, c), n in sorted(self.failures.items())},
            "wall_seconds": round(self.wall_seconds, 3),
            "transitions_per_second": round(self.transitions_per_second, 1),
        }

    def __str__(self) -> str:
        """The summary as readable lines: a count per line, never a Python dict."""
        lines: list[str] = []
        for key, value in self.summary().items():
            if key == "failures":
                lines.append(_counted("failures (workflow, error code)", self.failures))
            elif isinstance(value, dict):
                lines.append(_counted(key, {(k,): n for k, n in value.items()}))
            else:
                lines.append(f"{key}: {value}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<SimulationReport seed={self.seed} {self.calls} calls, {self.history_rows} rows, "
            f"{self.wall_seconds:.2f}s>"
        )

    def _repr_html_(self) -> str:
        from wfnb._html import table  # noqa: PLC0415  # display-only

        rows = [(w, o, n) for (w, o), n in sorted(self.transitions.items())]
        head = ", ".join(f"{k}={v}" for k, v in self.summary().items() if k != "failures")
        return table(["workflow", "outcome", "count"], rows, caption=head)

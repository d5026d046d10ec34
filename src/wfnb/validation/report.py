"""``ValidationReport``: every problem the validator found, and the workflows that parsed."""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING

from wfnb._html import table
from wfnb.exceptions import WfnbUsageError
from wfnb.problems import Problem, Severity
from wfnb.spec import Workflows

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["COLUMNS", "ValidationReport"]

COLUMNS = ("code", "severity", "file", "pointer", "message", "workflow")
"""The columns of ``ValidationReport.to_frame()``, one row per problem."""


@dataclass(frozen=True, eq=False)
class ValidationReport:
    """What ``wfnb.validate`` found.

    Attributes:
        problems: every problem, errors and warnings, in the order the files were read.
        workflows: the workflows that parsed (also those with problems beyond the schema).
    """

    problems: tuple[Problem, ...] = ()
    workflows: Workflows = field(default_factory=Workflows)

    @property
    def ok(self) -> bool:
        """No errors (warnings allowed): ``load_workflows`` would succeed."""
        return not self.errors

    @property
    def errors(self) -> tuple[Problem, ...]:
        """The problems that stop start-up."""
        return tuple(p for p in self.problems if p.severity == Severity.ERROR)

    @property
    def warnings(self) -> tuple[Problem, ...]:
        """The problems reported but never blocking."""
        return tuple(p for p in self.problems if p.severity == Severity.WARNING)

    def to_json(self) -> list[dict[str, str | None]]:
        """One JSON-ready dict per problem (what ``wfnb validate --format json`` prints)."""
        return [p.as_dict() for p in self.problems]

    def to_frame(self) -> pd.DataFrame:
        """One row per problem with the columns in ``COLUMNS`` (needs pandas)."""
        try:
            import pandas as pd  # noqa: PLC0415  # optional and heavy: only when asked for
        except ImportError as exc:  # pragma: no cover - pandas is installed in dev
            raise WfnbUsageError(
                "ValidationReport.to_frame needs pandas: pip install 'wfnb[jupyter]'"
            ) from exc
        return pd.DataFrame(self.to_json(), columns=list(COLUMNS))

    def _summary(self) -> str:
        n = len(self.workflows)
        errors, warnings = len(self.errors), len(self.warnings)
        return (
            f"{n} workflow{'s' * (n != 1)}, {errors} error{'s' * (errors != 1)}, "
            f"{warnings} warning{'s' * (warnings != 1)}"
        )

    def _repr_html_(self) -> str:
        if not self.problems:
            names = ", ".join(sorted(self.workflows)) or "nothing loaded"
            return (
                "<p style='color:#1a7f37'>&#10004; no problems "
                f"({escape(self._summary())}: {escape(names)})</p>"
            )
        colour = "#cf222e" if self.errors else "#9a6700"
        head = f"<p style='color:{colour}'>{escape(self._summary())}</p>"
        rows = [
            (p.code, str(p.severity), p.file, p.pointer or "/", p.message, p.workflow)
            for p in self.problems
        ]
        return head + table(COLUMNS, rows)

    def __str__(self) -> str:
        lines = [p.one_line() for p in self.problems]
        return "\n".join([*lines, self._summary()])

    def __repr__(self) -> str:
        state = "ok" if self.ok else "failed"
        return f"<ValidationReport {state}: {self._summary()}>"

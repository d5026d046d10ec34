"""A configuration problem: the unit the loader and the validator report in."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Problem", "Severity", "pointer"]


class Severity(StrEnum):
    """How bad a problem is."""

    ERROR = "error"
    """Stops start-up: ``load_workflows`` raises."""
    WARNING = "warning"
    """Reported, never blocks."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in one file, located by a JSON pointer (RFC 6901)."""

    code: str
    severity: Severity
    file: str
    pointer: str
    message: str
    workflow: str | None = None

    def one_line(self) -> str:
        """``file:pointer: WFxxx message``, the CLI's line."""
        return f"{self.file}:{self.pointer or '/'}: {self.code} {self.message}"

    def as_dict(self) -> dict[str, str | None]:
        """Plain JSON-ready mapping (for ``--format json`` and DataFrames)."""
        return {
            "code": self.code,
            "severity": str(self.severity),
            "file": self.file,
            "pointer": self.pointer,
            "message": self.message,
            "workflow": self.workflow,
        }


def pointer(*parts: str | int) -> str:
    """Build a JSON pointer from path parts, escaping ``~`` and ``/`` as RFC 6901 says."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)

"""The one exception tree of wfnb: every error has a stable ``code``.

Codes are a contract (see ``workflow-format.md``): WF1xx are configuration problems,
WF2xx runtime problems of a step, WF3xx the store and the job queue, WF4xx usage errors
of the command line and the notebook magics.

::

    WfnbError                                  WF000
    ├── ConfigError (ValueError)               WF100  carries every Problem found
    ├── StepError                              (runtime, carried by StepResult.error)
    │   ├── UnknownWorkflowError (LookupError) WF200  raised, never returned
    │   ├── EntityNotFoundError (LookupError)  WF201
    │   ├── NoStepAppliesError                 WF202
    │   ├── AmbiguousStepError                 WF203
    │   ├── ConcurrentModificationError        WF204
    │   ├── UseCaseFailedError                 WF205
    │   ├── UseCaseError                       WF206  the original exception is __cause__
    │   ├── UndeclaredObservationError         WF207
    │   ├── InvalidPayloadError (ValueError)   WF208
    │   └── ContextMissingError                WF209  no request context at a boundary
    │                                                 (or no cron context: ADR 0103)
    ├── StoreError                             WF300  a driver error, wrapped once
    │   └── QueueError                         WF301  the job queue refused or failed
    ├── WfnbUsageError (ValueError)            WF400  a bad CLI or magic argument
    └── EventLogError (ValueError)             WF401  a malformed event-log file, with its position
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from wfnb.problems import Problem

__all__ = [
    "AmbiguousStepError",
    "ConcurrentModificationError",
    "ConfigError",
    "ContextMissingError",
    "EntityNotFoundError",
    "EventLogError",
    "InvalidPayloadError",
    "NoStepAppliesError",
    "QueueError",
    "StepError",
    "StoreError",
    "UndeclaredObservationError",
    "UnknownWorkflowError",
    "UseCaseError",
    "UseCaseFailedError",
    "WfnbError",
    "WfnbUsageError",
]


class WfnbError(Exception):
    """Root of every wfnb error; ``code`` is stable and ``str()`` is one line."""

    code: ClassVar[str] = "WF000"

    def __init__(self, message: str, *, code: str | None = None, **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code  # type: ignore[misc]  # a use case's own failure code
        self.fields: dict[str, Any] = fields
        for name, value in fields.items():
            setattr(self, name, value)

    def one_line(self) -> str:
        """The error as the single line a notebook cell or the CLI shows."""
        return f"{self.code}: {' '.join(self.message.split())}"

    def __str__(self) -> str:
        return self.message


class ConfigError(WfnbError, ValueError):
    """The workflow configuration is invalid; ``problems`` lists every problem found."""

    code = "WF100"

    def __init__(self, problems: Sequence[Problem], message: str | None = None) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        errors = [p for p in self.problems if p.severity == "error"]
        first = errors[0] if errors else (self.problems[0] if self.problems else None)
        if message is None:
            head = first.one_line() if first else "invalid configuration"
            more = len(errors) - 1
            message = head + (f" (and {more} more problem{'s' * (more > 1)})" if more > 0 else "")
        super().__init__(message)
        if first is not None:
            self.code = first.code  # type: ignore[misc]

    def one_line(self) -> str:
        """First problem plus a count; the code is inside the problem's line."""
        return " ".join(self.message.split())


class StepError(WfnbError):
    """A runtime problem of one step; returned in ``StepResult.error``, not raised."""

    code = "WF2xx"


class UnknownWorkflowError(StepError, LookupError):
    """No loaded workflow has that name (raised: it is a programming error)."""

    code = "WF200"


class EntityNotFoundError(StepError, LookupError):
    """The entity does not exist, or is not visible to the current tenant."""

    code = "WF201"


class NoStepAppliesError(StepError):
    """No step applies at the entity's status for this requester (or the named one does not)."""

    code = "WF202"


class AmbiguousStepError(StepError):
    """Several steps apply at the status: the caller must name one."""

    code = "WF203"


class ConcurrentModificationError(StepError):
    """The compare-and-swap matched no row: someone else changed the entity first."""

    code = "WF204"


class UseCaseFailedError(StepError):
    """A use case returned ``Result.fail``; ``failure_code`` is the use case's own code."""

    code = "WF205"


class UseCaseError(StepError):
    """A use case raised; the original exception is chained as ``__cause__``."""

    code = "WF206"


class UndeclaredObservationError(StepError):
    """The observed transition is not declared in ``observed_transitions``."""

    code = "WF207"


class InvalidPayloadError(StepError, ValueError):
    """The payload is not a JSON object, not serialisable, or too large."""

    code = "WF208"


class ContextMissingError(StepError):
    """Work crossed a boundary without the context it needs.

    A job or event without its request-context envelope, or (``boundary="cron"``) a
    requester type the workflow declares in ``system_requester_types`` used outside a
    ``wfnb.cron(...)`` context: nothing was read or written (ADR 0103).
    """

    code = "WF209"


class StoreError(WfnbError):
    """A database driver error, wrapped once at the store boundary."""

    code = "WF300"


class QueueError(StoreError):
    """The job queue refused or failed an operation."""

    code = "WF301"


class WfnbUsageError(WfnbError, ValueError):
    """A malformed command-line or magic argument."""

    code = "WF400"


class EventLogError(WfnbError, ValueError):
    """An event-log file (XES, OCEL, CSV, Parquet) that cannot be read, at a position.

    ``path`` names the file and ``position`` where it went wrong ("line 12, column 4" or
    "row 17"); an import that meets one writes nothing.
    """

    code = "WF401"

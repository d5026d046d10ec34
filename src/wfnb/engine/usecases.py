"""The Python side of the contract: ``Result``, ``StepContext``, ``Requester`` and ``@batch``.

A use case is a plain function ``(StepContext) -> Result | None`` (``None`` means ok); a
function decorated with ``@batch`` takes ``list[StepContext]`` and returns the results in
the same order. Use cases never raise to say "no": they return ``Result.reject`` (a
business no, the rejection path) or ``Result.fail`` (the step rolls back; ``permanent``
moves the entity to the failure status).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from wfnb.spec import Step, Workflow

__all__ = [
    "BATCH_ATTR",
    "Event",
    "Requester",
    "Result",
    "ResultKind",
    "StepContext",
    "UseCase",
    "batch",
    "is_batch",
]

BATCH_ATTR = "__wfnb_batch__"


class ResultKind(StrEnum):
    """What a use case said."""

    OK = "ok"
    """Go on: the next stage runs, or the transition happens."""
    REJECTED = "rejected"
    """A business no: the step's rejection path is taken."""
    FAILED = "failed"
    """An error: the step rolls back (``permanent`` → the failure status)."""


@dataclass(frozen=True, slots=True)
class Result:
    """What a use case returns. Build it with ``ok``, ``reject`` or ``fail``.

    ``kind`` may be given as its text (``Result("failed", ...)`` is ``ResultKind.FAILED``);
    any other kind raises ``ValueError``, which the engine reports as WF206.
    """

    kind: ResultKind
    metadata: Mapping[str, Any] = field(default_factory=dict)
    reason: str | None = None
    code: str | None = None
    message: str | None = None
    permanent: bool = False

    def __post_init__(self) -> None:
        if type(self.kind) is not ResultKind:  # the text of a kind is that kind, never "ok"
            object.__setattr__(self, "kind", _kind(self.kind))

    @classmethod
    def ok(cls, **metadata: Any) -> Result:
        """Success; keywords land in the history row's metadata."""
        return cls(ResultKind.OK, metadata)

    @classmethod
    def reject(cls, reason: str, **metadata: Any) -> Result:
        """A business "no": the entity takes the step's rejection path."""
        return cls(ResultKind.REJECTED, metadata, reason=reason)

    @classmethod
    def fail(cls, code: str, message: str, *, permanent: bool = False, **metadata: Any) -> Result:
        """An error: nothing is kept, unless ``permanent`` sends the entity to failure."""
        return cls(ResultKind.FAILED, metadata, code=code, message=message, permanent=permanent)

    @property
    def is_ok(self) -> bool:
        """Whether the use case said go on."""
        return self.kind is ResultKind.OK


def _kind(value: object) -> ResultKind:
    """``value`` as a ``ResultKind`` (its member or its text); ``ValueError`` otherwise."""
    if isinstance(value, str):
        try:
            return ResultKind(value)
        except ValueError:
            pass
    kinds = ", ".join(repr(k.value) for k in ResultKind)
    raise ValueError(f"Result kind must be one of {kinds}, not {value!r}")


@dataclass(frozen=True, slots=True)
class Requester:
    """Who asked: the request context as a use case sees it."""

    type: str
    user_id: str | None = None
    tenant_id: str | None = None
    correlation_id: str | None = None


@dataclass(frozen=True, slots=True)
class Event:
    """A domain event a use case emitted, or a ``transition``; published after commit.

    ``key`` is the event's idempotency key: for a ``transition``, its history row's id
    (the same in-process and through the outbox); None for what a use case emitted.
    """

    name: str
    payload: Mapping[str, Any]
    workflow: str
    entity_id: str
    envelope: Mapping[str, Any] = field(default_factory=dict)
    key: str | None = None


@dataclass(slots=True)
class StepContext:
    """Everything a use case may look at, for one entity in one step."""

    entity: Mapping[str, Any]
    data: Mapping[str, Any]
    requester: Requester
    conn: Connection
    workflow: Workflow
    step: Step
    now: datetime
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not isinstance(self.entity, MappingProxyType):
            self.entity = MappingProxyType(dict(self.entity))

    @property
    def entity_id(self) -> str:
        """The entity's id, as text."""
        return str(self.entity[self.workflow.entity.id_column])

    def emit(self, name: str, **payload: Any) -> None:
        """Publish a domain event after the step commits (dropped if it rolls back)."""
        self.events.append((name, payload))


UseCase = Callable[[StepContext], "Result | None"]
F = TypeVar("F", bound=Callable[..., Any])


def batch(fn: F) -> F:
    """Mark a use case batch-aware: it takes ``list[StepContext]``, returns results in order."""
    setattr(fn, BATCH_ATTR, True)
    return fn


def is_batch(fn: Callable[..., Any]) -> bool:
    """Whether ``fn`` was decorated with ``@batch``."""
    return bool(getattr(fn, BATCH_ATTR, False))

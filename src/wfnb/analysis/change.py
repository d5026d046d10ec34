"""One change between two versions of a workflow, classified by whether entities must migrate.

The classification is the format's rule (the essay's "How config changes are handled"):
entities sit at statuses and never reference steps, so the only change that needs an entity
migration is one that shrinks the set of statuses: removing or renaming a status. Every
other change is forward-compatible with the rows already in the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = ["Change", "ChangeKind"]


class ChangeKind(StrEnum):
    """What changed; the subject names the status, step, timer or field."""

    STATUS_ADDED = "status_added"
    STATUS_REMOVED = "status_removed"
    STATUS_RENAMED = "status_renamed"
    STEP_ADDED = "step_added"
    STEP_REMOVED = "step_removed"
    STEP_RENAMED = "step_renamed"
    STEP_STATUS = "step_status"
    """A step now applies at another status."""
    SUCCESSFUL_STATE = "successful_state"
    REJECTION = "rejection"
    """A step's rejection target (added, removed or moved)."""
    USE_CASE = "use_case"
    """A validation / action / rejection action, or the workflow's use-case module."""
    REQUESTER_TYPES = "requester_types"
    AUTO_ADVANCE = "auto_advance"
    CLAIM = "claim"
    OVERRIDE = "override"
    TIMER_ADDED = "timer_added"
    TIMER_REMOVED = "timer_removed"
    TIMER_CHANGED = "timer_changed"
    OBSERVED_ADDED = "observed_added"
    OBSERVED_REMOVED = "observed_removed"
    INITIAL_STATUS = "initial_status"
    TERMINAL_STATUSES = "terminal_statuses"
    FAILURE_STATUSES = "failure_statuses"
    ENTITY = "entity"
    """The entity table or its columns."""
    METADATA = "metadata"
    """Name, description, owning module."""


MIGRATING = frozenset({ChangeKind.STATUS_REMOVED, ChangeKind.STATUS_RENAMED})
"""The only kinds that need entity migration: they shrink the set of valid statuses."""

_NOTES: dict[ChangeKind, str] = {
    ChangeKind.STATUS_ADDED: "existing entities never sit at a new status",
    ChangeKind.STATUS_REMOVED: "entities at it must move to a status the new config declares "
    "(one UPDATE); the start-up validator rejects a status column holding undeclared values",
    ChangeKind.STATUS_RENAMED: "entities at the old name must be moved to the new name "
    "(one UPDATE)",
    ChangeKind.STEP_ADDED: "it applies from the next request at its status",
    ChangeKind.STEP_REMOVED: "entities reference statuses, not steps",
    ChangeKind.STEP_RENAMED: "entities reference statuses, not steps; history keeps the old key",
    ChangeKind.STEP_STATUS: "entities stay where they are; the step fires at its new status "
    "from the next request",
    ChangeKind.SUCCESSFUL_STATE: "entities stay where they are; the next transition of this "
    "step takes the new target",
    ChangeKind.REJECTION: "entities stay where they are; the next rejection takes the new target",
    ChangeKind.USE_CASE: "use cases are names resolved on the next call; their context shape "
    "must stay compatible (an interface concern, not a state one)",
    ChangeKind.REQUESTER_TYPES: "who may run it changes from the next request",
    ChangeKind.AUTO_ADVANCE: "only later transitions chain differently",
    ChangeKind.CLAIM: "claims taken under the old config are released by the janitor as before",
    ChangeKind.OVERRIDE: "the requester sees the new override from the next request",
    ChangeKind.TIMER_ADDED: "armed for entities entering its status from now on",
    ChangeKind.TIMER_REMOVED: "timers already armed under the old config may still fire",
    ChangeKind.TIMER_CHANGED: "timers already armed keep the old schedule",
    ChangeKind.OBSERVED_ADDED: "recorded from the next observation",
    ChangeKind.OBSERVED_REMOVED: "the next such observation is refused (WF207)",
    ChangeKind.INITIAL_STATUS: "only new entities start elsewhere",
    ChangeKind.TERMINAL_STATUSES: "entities stay where they are",
    ChangeKind.FAILURE_STATUSES: "only later failures are logged differently",
    ChangeKind.ENTITY: "not a status migration: a schema change of the entity table, "
    "made outside wfnb",
    ChangeKind.METADATA: "history rows keep the values they were written with",
}


@dataclass(frozen=True, slots=True)
class Change:
    """One difference between two versions of a workflow.

    Attributes:
        kind: what changed.
        subject: the status, step key (``key.field`` for a use case, ``key[requester]`` for
            an override), timer key, observed transition or workflow field.
        old: the value before (``None`` when added).
        new: the value after (``None`` when removed).
        migration_needed: entities in the database must be moved (only when a status is
            removed or renamed).
        note: why, in one sentence, plus any follow-up worth knowing.
        target: for a migration, the status to move entities to.
        entities: with a database, how many entities sit at the old status now.
        update: with a database, the one-line UPDATE that moves them.
    """

    kind: ChangeKind
    subject: str
    old: Any
    new: Any
    migration_needed: bool
    note: str
    target: str | None = None
    entities: int | None = None
    update: str | None = None

    @classmethod
    def of(cls, kind: ChangeKind, subject: str, old: Any, new: Any, extra: str = "") -> Change:
        """A change classified by the migration rule, with its note."""
        migrating = kind in MIGRATING
        note = ("migration: " if migrating else "no migration: ") + _NOTES[kind]
        return cls(kind, subject, old, new, migrating, note + (f"; {extra}" if extra else ""))

    def __str__(self) -> str:
        flag = "MIGRATE " if self.migration_needed else ""
        return f"{flag}{self.kind} {self.subject}: {self.old!r} -> {self.new!r}"

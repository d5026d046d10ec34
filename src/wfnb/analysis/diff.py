"""``diff()``: what changed between two versions of a workflow, and which entities must move.

Versions come as loaded ``Workflow``s, as files, or as one file at two git revisions
(:func:`diff_revisions`). Renames are recognised first (see :mod:`wfnb.analysis.renames`),
then every field is compared and each change classified by the format's migration rule.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from wfnb._html import table
from wfnb.analysis.change import Change
from wfnb.analysis.compare import compare
from wfnb.analysis.migration import with_entities
from wfnb.analysis.renames import status_renames, step_renames, translate
from wfnb.exceptions import ConfigError, WfnbUsageError
from wfnb.loader import parse_source, read_sources
from wfnb.spec import Workflow

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["WorkflowDiff", "diff", "diff_revisions", "diff_tenant", "load_version"]

WorkflowLike = Workflow | str | Path
"""A loaded workflow, or the path of one workflow file."""

_COLUMNS = ["kind", "subject", "old", "new", "migration_needed", "target", "entities", "update"]


@dataclass(frozen=True, slots=True)
class WorkflowDiff:
    """The changes between two versions of one workflow.

    Attributes:
        old: the old version.
        new: the new version.
        changes: every change, statuses first, then steps, timers, observed transitions and
            workflow fields.
        status_renames: statuses recognised as renamed, old → new.
        step_renames: steps recognised as renamed, old key → new key.
    """

    old: Workflow
    new: Workflow
    changes: tuple[Change, ...]
    status_renames: dict[str, str]
    step_renames: dict[str, str]

    @property
    def migration_needed(self) -> bool:
        """Whether a migration is needed (entities moved, or a status constraint widened).

        Entities move when a status was removed or renamed; with a database, a status added
        that the table's status constraint refuses needs that constraint widened.
        """
        return any(c.migration_needed for c in self.changes)

    @property
    def migrations(self) -> tuple[Change, ...]:
        """The changes that need an entity migration, with their target (and UPDATE)."""
        return tuple(c for c in self.changes if c.migration_needed)

    def __len__(self) -> int:
        return len(self.changes)

    def __iter__(self) -> Iterator[Change]:
        return iter(self.changes)

    def to_frame(self) -> pd.DataFrame:
        """One row per change (pandas is imported on use)."""
        import pandas as pd  # noqa: PLC0415  # optional, notebook-side dependency

        rows = [
            {
                **{col: getattr(c, col) for col in _COLUMNS},
                "kind": str(c.kind),
                "note": c.note,
            }
            for c in self.changes
        ]
        return pd.DataFrame(rows, columns=[*_COLUMNS, "note"])

    def _title(self) -> str:
        versions = f"{self.old.config_hash[:12]} -> {self.new.config_hash[:12]}"
        if self.old.tenant or self.new.tenant:  # a tenant's overlay against the base, say
            versions = f"{_as_run(self.old)} -> {_as_run(self.new)}, {versions}"
        return f"diff of {self.new.name} ({versions})"

    def __repr__(self) -> str:
        return (
            f"<WorkflowDiff {self.new.name!r}: {_count(len(self.changes), 'change')}, "
            f"{len(self.migrations)} needing migration>"
        )

    def __str__(self) -> str:
        """Plain sentences: a title with the count, one line per change, then each migration."""
        migrations = len(self.migrations)
        need = f", {_count(migrations, 'migration')} needed" if migrations else ""
        lines = [f"{self._title()}: {_count(len(self.changes), 'change')}{need}"]
        lines += [f"  {sentence(c)}" for c in self.changes]
        for c in self.migrations:
            count = "" if c.entities is None else f" ({_count(c.entities, 'entity')})"
            if c.target:
                lines.append(f"  migrate entities at {c.subject} to {c.target}{count}: {c.note}")
            else:  # a schema migration: no entity moves
                lines.append(f"  migrate the schema for {c.subject}: {c.note}")
            if c.update:
                lines.append(f"    {c.update}")
        if not self.changes:
            lines.append("  no changes: both versions are the same")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = [
            (
                "yes" if c.migration_needed else "",
                str(c.kind),
                c.subject,
                c.old,
                c.new,
                c.target,
                c.entities,
                c.update,
                c.note,
            )
            for c in self.changes
        ]
        headers = ["migrate", "kind", "subject", "old", "new", "target", "entities", "UPDATE"]
        return table([*headers, "note"], rows, caption=self._title())


def _as_run(wf: Workflow) -> str:
    return f"as tenant {wf.tenant} runs it" if wf.tenant else "the base"


def _count(n: int, noun: str) -> str:
    """``1 change``, ``2 changes``, ``1 entity``, ``3 entities``."""
    if n == 1:
        return f"1 {noun}"
    return f"{n:,} " + (noun[:-1] + "ies" if noun.endswith("y") else noun + "s")


def _value(value: object) -> str:
    """A config value as a person reads it: no quotes, brackets or ``None``."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value or "an empty text"
    if isinstance(value, list | tuple | set | frozenset):
        items = [_value(v) for v in value]
        return ", ".join(items) if items else "none"
    if isinstance(value, dict):
        shown = [f"{k} {_value(v)}" for k, v in value.items() if v not in (None, [], {}, ())]
        return "; ".join(shown) if shown else "none"
    return str(value)


_WHAT: dict[str, str] = {
    "status": "status",
    "step": "step",
    "timer": "timer",
    "observed": "observed transition",
}

_STEP_FIELD: dict[str, str] = {
    "step_status": "the status it applies at",
    "successful_state": "its successful state",
    "rejection": "its rejection status",
    "requester_types": "who may run it",
    "auto_advance": "auto-advance",
    "claim": "its claim",
    "override": "an override",
    "use_case": "a use case",
}


def _from_to(old: object, new: object) -> str:
    """``from A to B``; for two mappings only the keys that differ."""
    if isinstance(old, dict) and isinstance(new, dict):
        keys = [k for k in {**old, **new} if old.get(k) != new.get(k)]
        return "; ".join(f"{k} from {_value(old.get(k))} to {_value(new.get(k))}" for k in keys)
    return f"from {_value(old)} to {_value(new)}"


def sentence(change: Change) -> str:
    """One change as a sentence: ``step cancel_approved added``, ``... changed from A to B``."""
    kind, subject = str(change.kind), change.subject
    flag = " (entities must migrate)" if change.migration_needed else ""
    noun, _, verb = kind.partition("_")
    if noun in _WHAT and verb in {"added", "removed"}:
        return f"{_WHAT[noun]} {subject} {verb}{flag}"
    if noun in _WHAT and verb == "renamed":
        return f"{_WHAT[noun]} {subject} renamed to {_value(change.new)}{flag}"
    if kind == "timer_changed":
        return f"timer {subject} changed: {_from_to(change.old, change.new)}{flag}"
    if subject == kind or kind in {"metadata", "entity"} or subject == "use_cases":
        what = f"the {subject.replace('_', ' ')} of the workflow"
    else:
        step, dot, field = subject.partition(".")
        what = f"step {step}: " + (f"use case {field}" if dot else _STEP_FIELD.get(kind, kind))
    show = _override if kind == "override" else _value  # in an override a null removes
    if change.old is None:
        return f"{what} set to {show(change.new)}{flag}"
    if change.new is None:
        return f"{what} removed (was {show(change.old)}){flag}"
    if kind == "override":
        changed = f"from {show(change.old)} to {show(change.new)}"
    else:
        changed = _from_to(change.old, change.new)
    return f"{what} changed {changed}{flag}"


def _override(value: object) -> str:
    """An override's fields as sentences: a null field removes the step's value."""
    if not isinstance(value, dict):
        return _value(value)
    shown = [f"{k} {'removed' if v is None else _value(v)}" for k, v in value.items()]
    return "; ".join(shown) or "none"


def load_version(path: str | Path, rev: str | None = None) -> Workflow:
    """One workflow file, as it is now or as it was at git revision ``rev``.

    Raises:
        WfnbUsageError: the path holds no workflow or several.
        ConfigError: the file is not a readable workflow (WF100, WF101, WF111).
    """
    sources = read_sources(path, rev=rev)
    if len(sources) != 1:
        where = f" at {rev}" if rev else ""
        raise WfnbUsageError(
            f"{str(path)!r}{where} holds {len(sources)} workflows: name one workflow file"
        )
    wf, _, problems = parse_source(sources[0])
    if wf is None:
        raise ConfigError(problems)
    return wf


def _load(item: WorkflowLike) -> Workflow:
    return item if isinstance(item, Workflow) else load_version(item)


def diff(
    old: WorkflowLike, new: WorkflowLike, db: sa.Engine | str | sa.URL | None = None
) -> WorkflowDiff:
    """Every change from ``old`` to ``new``, classified by whether entities must migrate.

    Only removing or renaming a status needs an entity migration; each such change carries
    the status to move entities to (the new name, or a suggested status with the reason).
    With ``db``, an added status the entity table's status constraint refuses needs a
    schema migration: its ``update`` is the DDL.

    Args:
        old: the old version: a ``Workflow`` or the path of a workflow file.
        new: the new version, likewise.
        db: a SQLAlchemy Engine or URL of the database holding the entity table: each
            migration then says how many entities sit at the old status and gives the
            one-line UPDATE that moves them.

    Raises:
        ConfigError: a file is not a readable workflow.
        WfnbUsageError: ``old`` and ``new`` are two different workflows (other names).
        StoreError: with ``db``, the entity table cannot be read.
    """
    before, after = _load(old), _load(new)
    if before.name != after.name:
        raise WfnbUsageError(
            f"these are two different workflows: {before.name} and {after.name} "
            "(diff compares two versions of one workflow)"
        )
    statuses = status_renames(before, after)
    steps = step_renames(before, after, statuses)
    changes = compare(before, translate(before, statuses, steps), after, statuses, steps)
    if db is not None:
        changes = with_entities(changes, before, db, after)
    return WorkflowDiff(before, after, tuple(changes), statuses, steps)


def diff_revisions(
    path: str | Path,
    old_rev: str,
    new_rev: str | None = None,
    *,
    db: sa.Engine | str | sa.URL | None = None,
) -> WorkflowDiff:
    """:func:`diff` of one workflow file between two git revisions.

    Args:
        path: the workflow file (inside a git work tree).
        old_rev: the older revision (``HEAD~3``, a tag, a sha).
        new_rev: the newer revision; ``None`` is the file as it is in the work tree.
        db: as for :func:`diff`.
    """
    return diff(load_version(path, old_rev), load_version(path, new_rev), db=db)


def with_overlays(path: str | Path) -> Workflow:
    """The workflow of one file with its folder's tenant overlays merged (``tenants/``).

    Raises:
        ConfigError: the workflow or one of its overlays has errors (every one is carried).
        WfnbUsageError: the file holds no workflow.
    """
    from wfnb.validation import validate  # noqa: PLC0415  # validation imports analysis helpers

    wf = load_version(path)
    found = validate([str(Path(path).parent)])
    errors = [p for p in found.errors if p.workflow == wf.name]
    if errors:
        raise ConfigError(errors)
    return found.workflows.get(wf.name, wf)


def diff_tenant(
    wf: WorkflowLike, tenant: str, db: sa.Engine | str | sa.URL | None = None
) -> WorkflowDiff:
    """:func:`diff` from the base workflow to the config ``tenant`` runs (its overlay merged).

    The changes are exactly the values the tenant's overlay changes; a tenant without an
    overlay runs the base (no changes).

    Args:
        wf: a loaded workflow (``load_workflows`` merges the overlays), or the path of a
            workflow file whose folder holds ``tenants/<tenant>/<name>.json``.
        tenant: the tenant.
        db: as for :func:`diff`.
    """
    base = (wf if isinstance(wf, Workflow) else with_overlays(wf)).base
    return diff(base, base.for_tenant(tenant), db=db)

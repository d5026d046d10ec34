"""What-if: replay a recorded history under a candidate config before deploying it.

Every entity of the chosen workflows is replayed from its initial status in a throwaway
database: its recorded requests (step, requester, source, payload when a simulation kept
it) at their recorded moments on a virtual clock, the candidate's timers firing on their
own. The first place the replay departs from the record classifies the entity:

- ``failed``: a request fails (``WF202``: the step no longer exists or applies);
- ``rejected``: a request the record shows going through is now rejected;
- ``routed``: a request now ends at a different status than recorded;
- ``timer``: a timer fires that did not (or does not fire where one did);
- ``stuck``: no departure, but the entity ends at a non-terminal status with no way out;
- ``unchanged``: the replay matches the record.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from wfnb.engine.core import WorkflowsLike
from wfnb.engine.results import Outcome, StepResult
from wfnb.examples.energy.schema import workflows_dir
from wfnb.exceptions import WfnbUsageError
from wfnb.simulation.recorded import Recorded, Request, read_recorded
from wfnb.simulation.replay import Replay, wrote_rows
from wfnb.spec import Workflow, Workflows
from wfnb.store import make_engine
from wfnb.validation import load_workflows

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CATEGORIES", "WhatIfReport", "what_if"]

CATEGORIES = ("unchanged", "failed", "rejected", "routed", "timer", "stuck")
Candidate = Workflow | Mapping[str, Workflow] | str | Path


@dataclass(frozen=True)
class WhatIfReport:
    """Per-entity outcome of a what-if replay, and counts per category."""

    workflows: tuple[str, ...]
    candidate_hashes: dict[str, str]
    rows: tuple[dict[str, Any], ...]

    @property
    def summary(self) -> dict[str, int]:
        """Entities per category (every category listed, zeros included)."""
        counts = Counter(r["category"] for r in self.rows)
        return {c: counts.get(c, 0) for c in CATEGORIES}

    def affected(self) -> set[str]:
        """Ids of the entities whose replay departs from the record."""
        return {r["entity_id"] for r in self.rows if r["category"] != "unchanged"}

    def to_frame(self) -> pd.DataFrame:
        """One row per entity (pandas, imported here)."""
        import pandas as pd  # noqa: PLC0415  # optional heavy import

        return pd.DataFrame(list(self.rows), columns=list(_COLUMNS))

    def __repr__(self) -> str:
        return f"<WhatIfReport {list(self.workflows)} {self.summary}>"

    def _repr_html_(self) -> str:
        from wfnb._html import table  # noqa: PLC0415  # display-only

        shown = [r for r in self.rows if r["category"] != "unchanged"][:200]
        caption = ", ".join(f"{k}: {v}" for k, v in self.summary.items())
        return table(_COLUMNS, [[r[c] for c in _COLUMNS] for r in shown], caption=caption)


_COLUMNS = (
    "workflow",
    "entity_id",
    "category",
    "at",
    "step",
    "recorded_to",
    "replayed_to",
    "error",
    "recorded_final",
    "replayed_final",
    "dead_end",
    "requests",
)


def _candidates(wfs: Workflows, candidate: Candidate, workflow: str | None) -> Workflows:
    if isinstance(candidate, Workflow):
        return Workflows({candidate.name: candidate})
    if isinstance(candidate, Mapping):
        return Workflows(dict(candidate))
    path = Path(candidate)
    if path.exists():
        return load_workflows([path])
    anchor = wfs[workflow].source_file if workflow is not None and workflow in wfs else None
    folder = Path(anchor).parent if anchor else workflows_dir()
    if folder is None:
        raise WfnbUsageError(f"no workflows folder to read revision {candidate!r} from")
    return load_workflows([folder], rev=str(candidate))


def _departure(request: Request, result: StepResult) -> tuple[str, str | None] | None:
    """How a replayed request departs from its record: (category, error code), or None."""
    if not wrote_rows(result):
        if result.outcome is Outcome.REJECTED:
            return "rejected", None
        return "failed", result.error.code if result.error is not None else None
    if result.outcome is Outcome.REJECTED and request.outcome_kinds[0] != "rejected":
        return "rejected", None
    if result.final_status != request.final_status:
        return "routed", result.error.code if result.error is not None else None
    return None


def _timers_differ(replay: Replay, recorded: Recorded, until: datetime | None) -> bool:
    mine = [
        (t.at, t.step_key, t.to_status)
        for t in replay.timers.get((recorded.workflow, recorded.entity_id), [])
        if until is None or t.at <= until
    ]
    theirs = [
        (t.at, t.step_key, t.to_status) for t in recorded.timers if until is None or t.at <= until
    ]
    return mine != theirs


def _dead_end(wf: Workflow, status: str | None) -> bool:
    if status is None or status in wf.terminal_statuses:
        return False
    leaves = wf.steps_at(status) or wf.timers_at(status)
    return not leaves and not any(o.from_ == status for o in wf.observed_transitions)


def _row(recorded: Recorded, category: str, **fields: Any) -> dict[str, Any]:
    row = dict.fromkeys(_COLUMNS)
    row.update(
        workflow=recorded.workflow,
        entity_id=recorded.entity_id,
        category=category,
        recorded_final=recorded.final_status,
        requests=len(recorded.requests),
        dead_end=False,
        **fields,
    )
    return row


def _replay_entity(replay: Replay, recorded: Recorded, request: Request) -> dict[str, Any] | None:
    """Replay one request; the entity's result row when it departs, else None."""
    replay.advance(request.at)
    if _timers_differ(replay, recorded, request.at):
        return _row(recorded, "timer", at=request.at, step=request.step_key)
    result = replay.run(recorded, request)
    departure = _departure(request, result)
    if departure is None:
        return None
    category, code = departure
    return _row(
        recorded,
        category,
        at=request.at,
        step=request.step_key,
        recorded_to=request.final_status,
        replayed_to=result.final_status,
        error=code,
    )


def what_if(
    db: sa.Engine | str | sa.URL,
    wfs: WorkflowsLike,
    candidate: Candidate,
    *,
    workflow: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    entities: Sequence[str] | None = None,
) -> WhatIfReport:
    """Replay the recorded history of ``db`` under ``candidate``; nothing touches ``db``.

    Args:
        db: the database whose ``workflow_history`` is replayed (read only).
        wfs: the workflows running today (the ones the candidate replaces by name).
        candidate: a ``Workflow``, a mapping of them, a file or folder path, or a git
            revision of the workflows folder (``"HEAD~1"``).
        workflow: replay only this workflow (default: every workflow of the candidate).
        since: only entities first recorded at or after this moment.
        until: replay up to this moment (default: the end of the record).
        entities: only these entity ids.

    Returns:
        A ``WhatIfReport``: one row per entity, ``summary`` counts, ``to_frame()``.
    """
    current = wfs if isinstance(wfs, Workflows) else load_workflows(_models(wfs))
    proposed = _candidates(current, candidate, workflow)
    names = (workflow,) if workflow is not None else tuple(sorted(proposed))
    merged = load_workflows([*{**dict(current), **dict(proposed)}.values()])
    source = make_engine(db)
    records = read_recorded(source, names, since=since, until=until, entities=entities)
    if not records:
        if not isinstance(db, sa.Engine):
            source.dispose()
        return WhatIfReport(names, {n: merged[n].config_hash for n in names}, ())
    order = sorted(
        ((req.at, req.row_id, rec, req) for rec in records for req in rec.requests),
        key=lambda item: (item[0], item[1]),
    )
    replay = Replay(source, merged, start=order[0][0])
    done: dict[tuple[str, str], dict[str, Any]] = {}
    try:
        for _at, _id, rec, req in order:
            key = (rec.workflow, rec.entity_id)
            if key not in done and (row := _replay_entity(replay, rec, req)) is not None:
                done[key] = row
        end = until or max(_last(r) for r in records)
        replay.advance(end)
        rows = [_finish(replay, merged, rec, done.get((rec.workflow, rec.entity_id)), end)
                for rec in records]  # fmt: skip
    finally:
        replay.close()
        if not isinstance(db, sa.Engine):
            source.dispose()
    return WhatIfReport(names, {n: merged[n].config_hash for n in names}, tuple(rows))


def _finish(
    replay: Replay,
    wfs: Workflows,
    recorded: Recorded,
    row: dict[str, Any] | None,
    until: datetime | None,
) -> dict[str, Any]:
    status = replay.status(recorded)
    dead = _dead_end(wfs[recorded.workflow], status)
    if row is None:
        category = "timer" if _timers_differ(replay, recorded, until) else "unchanged"
        row = _row(recorded, "stuck" if dead and category == "unchanged" else category)
    row.update(replayed_final=status, dead_end=dead)
    return row


def _last(recorded: Recorded) -> datetime:
    return max([recorded.requests[-1].at, *(t.at for t in recorded.timers)])


def _models(wfs: WorkflowsLike) -> list[Workflow]:
    return list(wfs.values()) if isinstance(wfs, Mapping) else list(wfs)

"""Slices of the history by entity id, what parallel conformance workers each read.

Every row of an entity falls in one slice, so each worker judges whole entities (a row's
verdict needs its entity's earlier rows, ADR 0113). Bounds are entity ids taken in the
database's own order, and slices compare with them in the database, so collation never
disagrees with Python's.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import sqlalchemy as sa

from wfnb.store.audit import REPLAY_COLUMNS
from wfnb.store.errors import wrap_errors
from wfnb.store.tables import HISTORY

__all__ = ["Bounds", "entity_bounds", "select_replay_slice"]

Bounds = tuple[str | None, str | None]
"""``(lo, hi)``: entity ids ``lo <= id < hi``; None is open."""


def entity_bounds(conn: sa.Connection, workflows: Sequence[str], slices: int) -> list[Bounds]:
    """About ``slices`` ranges of entity ids holding as many entities each.

    ::

        SELECT DISTINCT entity_id FROM workflow_history WHERE workflow IN (...)
        ORDER BY entity_id
    """
    stmt = (
        sa.select(HISTORY.c.entity_id)
        .where(HISTORY.c.workflow.in_(sorted(workflows)))
        .distinct()
        .order_by(HISTORY.c.entity_id)
    )
    with wrap_errors("read entity ids for conformance workers"):
        ids = list(conn.execute(stmt).scalars())
    step = max(1, -(-len(ids) // max(1, slices)))
    cuts: list[str | None] = [None, *ids[step::step], None]
    return list(pairwise(cuts))


def select_replay_slice(conn: sa.Connection, workflows: Sequence[str], bounds: Bounds) -> Any:
    """``audit.select_replay_rows`` of the entities within ``bounds`` (columns, rows)."""
    lo, hi = bounds
    where: list[sa.ColumnElement[bool]] = [HISTORY.c.workflow.in_(sorted(workflows))]
    if lo is not None:
        where.append(HISTORY.c.entity_id >= lo)
    if hi is not None:
        where.append(HISTORY.c.entity_id < hi)
    stmt = (
        sa.select(*(HISTORY.c[name] for name in REPLAY_COLUMNS))
        .where(*where)
        .order_by(HISTORY.c.workflow, HISTORY.c.entity_id, HISTORY.c.id)
    )
    with wrap_errors("read a history slice for conformance"):
        return list(REPLAY_COLUMNS), [tuple(r) for r in conn.execute(stmt)]

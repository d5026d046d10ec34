"""The explorer's reads: entities at a status now (paged, filtered), with when they entered it.

Statement builders only (``wfnb.jupyter.explore.data`` executes them). "Entered" is the
entity's latest ``workflow_history`` row: the entity table's status is the workflow state,
and every change of it writes one history row, so that row is the one that entered it.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from wfnb.store.tables import HISTORY

__all__ = ["select_at_status", "select_tenants"]


def _entered(entity_id: sa.ColumnElement[Any], workflow: str) -> sa.ScalarSelect[Any]:
    """When the entity's latest history row (highest id) was written.

    Correlated, ``ORDER BY id DESC LIMIT 1``: one probe of ``ix_workflow_history_entity``
    (workflow, entity_id, id) per entity (``max(changed_at)`` lets SQLite pick the
    ``(workflow, changed_at)`` index and scan the workflow's whole history instead).
    """
    c = HISTORY.c
    return (
        sa.select(c.changed_at)
        .where(c.workflow == workflow, c.entity_id == entity_id)
        .order_by(c.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def select_at_status(  # one filter per keyword
    table: sa.Table,
    *,
    id_column: str,
    status_column: str,
    status: str,
    workflow: str,
    tenant: tuple[str, str] | None = None,
    search: str = "",
) -> sa.Select[Any]:
    """``entity_id, entered_at`` of the entities at ``status``, longest there first.

    Args:
        table: the reflected entity table.
        id_column: its id column.
        status_column: its status column.
        status: the status.
        workflow: the workflow whose history says when each entity entered it.
        tenant: ``(tenant column, tenant id)`` to keep one tenant's entities.
        search: keep ids containing this text (case-insensitive); empty keeps all.
    """
    entity_id = sa.cast(table.c[id_column], sa.String)
    entered = _entered(entity_id, workflow).label("entered_at")
    stmt = sa.select(entity_id.label("entity_id"), entered).where(table.c[status_column] == status)
    if tenant is not None:
        stmt = stmt.where(table.c[tenant[0]] == tenant[1])
    if search:
        pattern = "%" + search.lower().replace("%", r"\%").replace("_", r"\_") + "%"
        stmt = stmt.where(sa.func.lower(entity_id).like(pattern, escape="\\"))
    return stmt.order_by(sa.literal_column("entered_at").asc().nulls_last(), entity_id)


def select_tenants(workflow: str) -> sa.Select[Any]:
    """The tenant ids a workflow's history holds, sorted."""
    c = HISTORY.c
    return (
        sa.select(c.tenant_id)
        .where(c.workflow == workflow, c.tenant_id.is_not(None))
        .distinct()
        .order_by(c.tenant_id)
    )

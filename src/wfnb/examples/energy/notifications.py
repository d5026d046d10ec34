"""Outgoing mail of the example domain, kept as rows in ``notifications`` (an outbox).

``notify`` is the generic use case workflows name as
``wfnb.examples.energy.notifications:notify``: its template is ``<workflow>.<step>``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from wfnb.engine.usecases import Result, StepContext
from wfnb.examples.energy.schema import notifications

__all__ = ["notify", "queue_mail", "recipient_of"]


def recipient_of(ctx: StepContext) -> str | None:
    """The e-mail address of the entity's owner, when the entity has one."""
    for column in ("email", "customer_email"):
        value = ctx.entity.get(column)
        if isinstance(value, str) and value:
            return value
    return None


def queue_mail(
    ctx: StepContext,
    template: str,
    *,
    attempt: str | None = None,
    recipient: str | None = None,
    sent_at: datetime | None = None,
    **payload: Any,
) -> None:
    """Queue one mail about ``ctx``'s entity in the step's transaction, and say so."""
    ctx.conn.execute(
        sa.insert(notifications).values(
            entity_table=ctx.workflow.entity.table,
            entity_id=ctx.entity_id,
            template=template,
            recipient=recipient or recipient_of(ctx),
            payload=payload,
            attempt=attempt,
            created_at=sent_at or ctx.now,
        )
    )
    ctx.emit("notification.queued", template=template)


def notify(ctx: StepContext) -> Result:
    """Action: tell the entity's owner that the step happened (template ``<workflow>.<step>``)."""
    template = f"{ctx.workflow.name}.{ctx.step.key}"
    reason = ctx.data.get("reason")
    queue_mail(ctx, template, reason=reason if isinstance(reason, str) else None)
    return Result.ok(template=template)

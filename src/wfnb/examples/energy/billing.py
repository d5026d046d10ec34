"""Use cases of ``billing_period`` (module ``billing``) and its claim janitor.

A billing period is one month of the market's settlement calendar, shared by every
community (so the table is not tenant-scoped). A calendar timer closes it one month after
it opened; closing computes each community's totals under the ``closing`` claim.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa

from wfnb.engine.usecases import Result, StepContext
from wfnb.examples.energy.common import entity_where, forward, release, require_reason
from wfnb.examples.energy.schema import billing_period_totals, billing_periods

__all__ = [
    "archive_period",
    "billing_janitor",
    "check_early_close",
    "check_period_ended",
    "close_period",
    "parse_totals",
    "record_reopening",
    "require_reason",
]


def _period_end(ctx: StepContext) -> date:
    end = ctx.entity["period_end"]
    return end if isinstance(end, date) else date.fromisoformat(str(end))


def check_period_ended(ctx: StepContext) -> Result:
    """Validation: the period is over (its exclusive end date has come)."""
    end = _period_end(ctx)
    if ctx.now.date() < end:
        return Result.reject(f"the period runs until {end.isoformat()}", code="period_not_ended")
    return Result.ok()


def check_early_close(ctx: StepContext) -> Result:
    """Validation for admins: closing before the end is allowed, with a reason."""
    if ctx.now.date() < _period_end(ctx):
        return require_reason(ctx)
    return Result.ok()


def parse_totals(raw: object) -> list[dict[str, Any]] | str:
    """``data["totals"]`` as rows for ``billing_period_totals``, or why it is malformed.

    Each item is ``{"tenant_id": ..., "shared_kwh": "123.456", "amount_cents": 1200}``.
    """
    if raw is None:
        return []
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        return "totals must be a list"
    rows: list[dict[str, Any]] = []
    for item in raw:
        if not isinstance(item, Mapping) or not isinstance(item.get("tenant_id"), str):
            return f"malformed total {item!r}"
        try:
            kwh = Decimal(str(item.get("shared_kwh")))
        except InvalidOperation:
            return f"shared_kwh of {item['tenant_id']} is not a number"
        cents = item.get("amount_cents")
        if not isinstance(cents, int) or kwh < 0 or cents < 0:
            return f"total of {item['tenant_id']} must be non-negative"
        rows.append({"tenant_id": item["tenant_id"], "shared_kwh": kwh, "amount_cents": cents})
    return rows


def close_period(ctx: StepContext) -> Result:
    """Action (claimed): store each community's totals and stamp the closing.

    ``data["meter_data"] == "incomplete"`` simulates meter readings that have not all
    arrived: a transient failure, so the claim is released and the timer or an admin
    tries again.
    """
    if ctx.data.get("meter_data") == "incomplete":
        return Result.fail("meter_data_incomplete", "meter readings are still missing")
    rows = parse_totals(ctx.data.get("totals"))
    if isinstance(rows, str):
        return Result.fail("invalid_totals", rows)
    period = billing_period_totals.c.period_id == ctx.entity_id
    ctx.conn.execute(sa.delete(billing_period_totals).where(period))  # a re-close replaces
    if rows:
        ctx.conn.execute(
            sa.insert(billing_period_totals),
            [{**row, "period_id": ctx.entity_id, "computed_at": ctx.now} for row in rows],
        )
    ctx.conn.execute(
        sa.update(billing_periods)
        .where(entity_where(ctx, billing_periods))
        .values(closed_at=ctx.now)
    )
    total = sum(row["amount_cents"] for row in rows)
    ctx.emit("billing_period.closed", communities=len(rows), amount_cents=total)
    return Result.ok(communities=len(rows), amount_cents=total)


def record_reopening(ctx: StepContext) -> Result:
    """Action: reopen for corrections; the next close recomputes the totals."""
    ctx.conn.execute(
        sa.update(billing_periods)
        .where(entity_where(ctx, billing_periods))
        .values(closed_at=None, reopen_count=billing_periods.c.reopen_count + 1)
    )
    return Result.ok()


def archive_period(ctx: StepContext) -> Result:
    """Action: the period is final; nothing may reopen it."""
    ctx.conn.execute(
        sa.update(billing_periods)
        .where(entity_where(ctx, billing_periods))
        .values(archived_at=ctx.now)
    )
    return Result.ok()


def billing_janitor(ctx: StepContext) -> Result:
    """Decide a stale ``closing`` claim.

    Closing touches only this module's tables, in the step's transaction: if it did not
    commit, nothing happened, so the claim is released (the timer or an admin closes
    again). Only a period someone stamped ``closed_at`` by hand is pushed forward.
    """
    if ctx.entity.get("closed_at") is not None:
        return forward("closed_at is set")
    return release("the closing never committed")

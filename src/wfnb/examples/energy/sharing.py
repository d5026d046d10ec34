"""Use cases of ``sharing_group`` (module ``sharing``) and its claim janitor.

A sharing group is a set of members who share the electricity one of them produces, in
agreed proportions (allocation keys). The group is registered at the national data hub;
the hub's answer arrives as an observed transition from ``datahub_poller``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa

from wfnb.engine.usecases import Result, StepContext
from wfnb.examples.energy.common import entity_where, forward, release, require_reason
from wfnb.examples.energy.datahub import find_claimed_request, request_at_hub
from wfnb.examples.energy.notifications import queue_mail
from wfnb.examples.energy.schema import sharing_group_members, sharing_groups

__all__ = [
    "FULL_SHARE_BP",
    "allocation_keys",
    "check_start_date",
    "dissolve_group",
    "notify_allocation_rejected",
    "notify_group_rejected",
    "register_group_at_hub",
    "require_reason",
    "sharing_janitor",
    "start_sharing",
    "store_allocation_keys",
    "validate_allocation",
]

FULL_SHARE_BP = 10_000
"""100 % in basis points."""


def _member_share(member: object) -> tuple[str, int] | str:
    """One member as ``(user_id, basis points)``, or why it is malformed."""
    if not isinstance(member, Mapping) or not member.get("user_id"):
        return f"malformed member {member!r}"
    user_id = str(member["user_id"])
    try:
        share = Decimal(str(member.get("share_percent"))) * 100
    except InvalidOperation:
        return f"share of {user_id} is not a number"
    if share != share.to_integral_value() or not 0 < share <= FULL_SHARE_BP:
        return f"share of {user_id} must be in (0, 100] with at most two decimals"
    return user_id, int(share)


def allocation_keys(members: object) -> dict[str, int] | str:
    """``data["members"]`` as ``{user_id: share in basis points}``, or why it is not valid.

    Each member is ``{"user_id": ..., "share_percent": ...}``; percentages may carry two
    decimals and must add up to exactly 100 across at least two distinct members.
    """
    if not isinstance(members, Sequence) or isinstance(members, str) or len(members) < 2:
        return "a sharing group needs at least two members"
    keys: dict[str, int] = {}
    for member in members:
        parsed = _member_share(member)
        if isinstance(parsed, str):
            return parsed
        keys[parsed[0]] = parsed[1]
    if len(keys) != len(members):
        return "a member is listed twice"
    if sum(keys.values()) != FULL_SHARE_BP:
        return f"shares add up to {Decimal(sum(keys.values())) / 100} %, not 100 %"
    return keys


def validate_allocation(ctx: StepContext) -> Result:
    """Validation: the allocation keys in ``data["members"]`` add up to 100 %."""
    keys = allocation_keys(ctx.data.get("members"))
    if isinstance(keys, str):
        return Result.reject(keys, code="invalid_allocation")
    return Result.ok(members=len(keys))


def store_allocation_keys(ctx: StepContext) -> Result:
    """Action: replace the group's members with the submitted allocation keys."""
    keys = allocation_keys(ctx.data.get("members"))
    assert isinstance(keys, dict)  # the step's validation accepted them
    group = sharing_group_members.c.group_id == ctx.entity_id
    ctx.conn.execute(sa.delete(sharing_group_members).where(group))
    ctx.conn.execute(
        sa.insert(sharing_group_members),
        [{"group_id": ctx.entity_id, "user_id": u, "share_bp": bp} for u, bp in keys.items()],
    )
    ctx.emit("sharing_group.allocation_stored", members=len(keys))
    return Result.ok(members=len(keys))


def notify_allocation_rejected(ctx: StepContext) -> Result:
    """Rejection action: tell the group's founder the allocation was not accepted."""
    queue_mail(ctx, "sharing_group.allocation_rejected")
    return Result.ok()


def notify_group_rejected(ctx: StepContext) -> Result:
    """Action: tell the group's founder why the group was refused or returned."""
    queue_mail(ctx, f"sharing_group.{ctx.step.key}", reason=ctx.data.get("reason"))
    return Result.ok()


def register_group_at_hub(ctx: StepContext) -> Result:
    """Action (claimed): send the group and its allocation keys to the data hub."""
    rows = ctx.conn.execute(
        sa.select(sharing_group_members.c.user_id, sharing_group_members.c.share_bp)
        .where(sharing_group_members.c.group_id == ctx.entity_id)
        .order_by(sharing_group_members.c.user_id)
    ).all()
    payload: dict[str, Any] = {
        "name": ctx.entity.get("name"),
        "members": [{"user_id": r.user_id, "share_bp": r.share_bp} for r in rows],
    }
    return request_at_hub(ctx, "register_group", payload)


def _start_date(ctx: StepContext) -> date:
    raw = ctx.data.get("start_date", ctx.entity.get("start_date"))
    if isinstance(raw, date):
        return raw
    return date.fromisoformat(raw) if isinstance(raw, str) else ctx.now.date()


def check_start_date(ctx: StepContext) -> Result:
    """Validation: sharing cannot start before its start date (default: today)."""
    try:
        start = _start_date(ctx)
    except ValueError:
        return Result.reject(
            f"start_date {ctx.data.get('start_date')!r} is not a date", code="invalid_start_date"
        )
    if start > ctx.now.date():
        return Result.reject(f"sharing starts on {start.isoformat()}", code="not_started")
    return Result.ok(start_date=start.isoformat())


def start_sharing(ctx: StepContext) -> Result:
    """Action: record the start date; from now on the allocation keys apply."""
    start = _start_date(ctx)
    ctx.conn.execute(
        sa.update(sharing_groups).where(entity_where(ctx, sharing_groups)).values(start_date=start)
    )
    ctx.emit("sharing_group.activated", start_date=start.isoformat())
    return Result.ok(start_date=start.isoformat())


def dissolve_group(ctx: StepContext) -> Result:
    """Action: deregister the group at the hub and stamp the dissolution."""
    result = request_at_hub(ctx, "deregister_group", {"reason": ctx.data.get("reason")})
    if not result.is_ok:
        return result
    ctx.conn.execute(
        sa.update(sharing_groups)
        .where(entity_where(ctx, sharing_groups))
        .values(dissolved_at=ctx.now)
    )
    return result


def sharing_janitor(ctx: StepContext) -> Result:
    """Decide a stale ``registering_at_hub`` claim: forward if the hub got the request."""
    request_id = find_claimed_request(ctx, "register_group")
    if request_id is None:
        return release("no register_group request reached the data hub")
    return forward(request_id)

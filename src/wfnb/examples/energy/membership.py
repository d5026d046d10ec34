"""Use cases of ``user_registration`` from approval on, and the ``identity`` claim janitor.

Re-exported by :mod:`wfnb.examples.energy.registration`, the workflow's ``use_cases``.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from wfnb.engine.usecases import Result, StepContext
from wfnb.examples.energy.common import entity_where, forward, release, text_field
from wfnb.examples.energy.datahub import deregister_user_at_hub, find_claimed_request
from wfnb.examples.energy.notifications import queue_mail
from wfnb.examples.energy.schema import registration_notes, users

__all__ = [
    "CLAIM_REQUESTS",
    "add_note",
    "check_hub_reference",
    "close_account_by_admin",
    "identity_janitor",
    "notify_registration_rejected",
    "record_hub_confirmation",
    "record_hub_correction",
    "record_hub_timeout",
    "record_reactivation",
    "record_suspension",
    "update_profile",
    "validate_profile",
]

CLAIM_REQUESTS = {"registering_at_hub": "register_user", "deregistering_at_hub": "deregister_user"}
"""Claim status -> the kind of hub request the claimed action sends."""

_HUB_REFERENCE = re.compile(r"^[A-Z0-9][A-Z0-9-]{5,63}$")
_EAN = re.compile(r"^859\d{15}$")  # Czech supply points: 18 digits starting 859
PROFILE_FIELDS = frozenset({"full_name", "supply_point"})


def add_note(ctx: StepContext, kind: str, body: str) -> None:
    """Keep a note on the member's file, written in the step's transaction."""
    ctx.conn.execute(
        sa.insert(registration_notes).values(
            user_id=ctx.entity_id,
            kind=kind,
            body=body,
            author_type=ctx.requester.type,
            created_at=ctx.now,
        )
    )


def notify_registration_rejected(ctx: StepContext) -> Result:
    """Action: tell the applicant the registration was refused, and why."""
    reason = text_field(ctx.data, "reason") or "refused after review"
    add_note(ctx, "rejection", reason)
    queue_mail(ctx, "user_registration.rejected", reason=reason)
    ctx.emit("user.registration_rejected", reason=reason)
    return Result.ok()


# --- the data hub -------------------------------------------------------------------------
def record_hub_timeout(ctx: StepContext) -> Result:
    """Action (timer): the hub never answered; the registration failed for good."""
    add_note(ctx, "hub_timeout", "no answer from the data hub within the deadline")
    ctx.emit("user.hub_registration_timed_out")
    return Result.ok()


def check_hub_reference(ctx: StepContext) -> Result:
    """Validation: the customer reference the hub gave (``data["hub_reference"]``)."""
    reference = text_field(ctx.data, "hub_reference")
    if reference is None or not _HUB_REFERENCE.match(reference):
        return Result.reject(
            "a data hub customer reference (e.g. DH-123456) is required",
            code="hub_reference_required",
        )
    return Result.ok()


def record_hub_confirmation(ctx: StepContext) -> Result:
    """Action: an admin confirms from the hub's portal; keep the hub's reference."""
    reference = str(ctx.data["hub_reference"]).strip()
    ctx.conn.execute(
        sa.update(users).where(entity_where(ctx, users)).values(hub_customer_ref=reference)
    )
    ctx.emit("user.activated", hub_reference=reference)
    return Result.ok(hub_reference=reference)


def record_hub_correction(ctx: StepContext) -> Result:
    """Action: an admin corrected what the hub objected to; back to review."""
    add_note(ctx, "hub_correction", str(ctx.data["reason"]).strip())
    return Result.ok()


# --- an active member ---------------------------------------------------------------------
def record_suspension(ctx: StepContext) -> Result:
    """Action: keep why the member is suspended."""
    reason = str(ctx.data["reason"]).strip()
    ctx.conn.execute(
        sa.update(users).where(entity_where(ctx, users)).values(suspension_reason=reason)
    )
    ctx.emit("user.suspended", reason=reason)
    return Result.ok()


def record_reactivation(ctx: StepContext) -> Result:
    """Action: lift the suspension."""
    ctx.conn.execute(
        sa.update(users).where(entity_where(ctx, users)).values(suspension_reason=None)
    )
    add_note(ctx, "reactivation", text_field(ctx.data, "reason") or "reactivated")
    return Result.ok()


def validate_profile(ctx: StepContext) -> Result:
    """Validation: only ``full_name`` and ``supply_point`` (an 18-digit EAN) may change."""
    unknown = set(ctx.data) - PROFILE_FIELDS
    if unknown or not ctx.data:
        return Result.reject(
            f"only {sorted(PROFILE_FIELDS)} can be changed", code="unknown_profile_field"
        )
    if "full_name" in ctx.data and text_field(ctx.data, "full_name") is None:
        return Result.reject("the name cannot be empty", code="name_required")
    if "supply_point" in ctx.data and not _EAN.match(str(ctx.data["supply_point"])):
        return Result.reject(
            "a supply point is an 18-digit EAN starting with 859", code="invalid_supply_point"
        )
    return Result.ok()


def update_profile(ctx: StepContext) -> Result:
    """Action: write the changed profile fields."""
    values = {key: str(ctx.data[key]).strip() for key in PROFILE_FIELDS & set(ctx.data)}
    ctx.conn.execute(sa.update(users).where(entity_where(ctx, users)).values(**values))
    return Result.ok(changed=sorted(values))


def close_account_by_admin(ctx: StepContext) -> Result:
    """Action for admins: note why the account is closed, then deregister at the hub."""
    add_note(ctx, "closure", text_field(ctx.data, "reason") or "closed by an administrator")
    return deregister_user_at_hub(ctx)


def identity_janitor(ctx: StepContext) -> Result:
    """Decide a stale ``registering_at_hub`` / ``deregistering_at_hub`` claim.

    The hub request carries the claim's attempt key. Found: the hub has it, push the entity
    forward (``Result.ok``). Not found: nothing reached the hub, release the entity back to
    the step's status (``Result.reject``) so calling the step again retries it.
    """
    status = str(ctx.entity[ctx.workflow.entity.status_column])
    kind = CLAIM_REQUESTS.get(status)
    if kind is None:
        return Result.fail("not_a_claim", f"{status!r} is not a claim status of identity")
    request_id = find_claimed_request(ctx, kind)
    if request_id is None:
        return release(f"no {kind} request reached the data hub")
    return forward(request_id)

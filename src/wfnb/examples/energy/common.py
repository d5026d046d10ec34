"""Helpers every example module shares: payload reading, attempt keys, ``require_reason``.

An *attempt key* names one run of a claimed action: the entity id and the version the
action saw. Actions stamp it on what they send out (a hub request, an e-mail); a claim
janitor looks for it to tell "the outside world got it" from "nothing left the building".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from wfnb.engine.usecases import Result, StepContext

__all__ = [
    "EMAIL_RE",
    "attempt_key",
    "claim_attempt_keys",
    "entity_where",
    "forward",
    "release",
    "require_reason",
    "tenant_of",
    "text_field",
]

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.IGNORECASE)


def text_field(data: Mapping[str, Any], key: str) -> str | None:
    """``data[key]`` stripped, or None when it is missing, blank or not a string."""
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()


def require_reason(ctx: StepContext) -> Result:
    """Validation: the caller must say why (``data["reason"]``); an audit rule for admins."""
    reason = text_field(ctx.data, "reason")
    if reason is None:
        return Result.reject("a reason is required for this step", code="reason_required")
    return Result.ok(reason=reason)


def _version(ctx: StepContext) -> int:
    return int(ctx.entity[ctx.workflow.entity.version_column])


def attempt_key(ctx: StepContext) -> str:
    """``<entity id>@<version>`` as the running action sees the entity."""
    return f"{ctx.entity_id}@{_version(ctx)}"


def claim_attempt_keys(ctx: StepContext) -> tuple[str, str]:
    """The attempt keys the action of the claim the entity now holds may have used.

    The engine may hand the action the row before the claim (version ``v - 1``) or the
    claimed row (``v``). Both belong to this claim: an earlier attempt used ``v - 2`` or
    less, because taking a claim and leaving it each bump the version.
    """
    version = _version(ctx)
    return f"{ctx.entity_id}@{version}", f"{ctx.entity_id}@{version - 1}"


def entity_where(ctx: StepContext, table: sa.Table) -> sa.ColumnElement[bool]:
    """``table.<id_column> = <this entity's id>``."""
    return table.c[ctx.workflow.entity.id_column] == ctx.entity_id


def tenant_of(ctx: StepContext) -> str | None:
    """The entity's tenant, when its workflow is tenant-scoped."""
    column = ctx.workflow.entity.tenant_column
    return None if column is None else ctx.entity.get(column)


def forward(evidence: str) -> Result:
    """Janitor verdict: the claimed action took effect; finish the step (``Result.ok``)."""
    return Result.ok(decision="forward", evidence=evidence)


def release(reason: str) -> Result:
    """Janitor verdict: nothing happened; put the entity back where the step started."""
    return Result.reject(reason, code="claim_released", decision="release")

"""The national data hub as the example domain sees it: requests kept in ``hub_requests``.

A real hub is an HTTP API; here a request is a row, stamped with an attempt key that works
as the hub's idempotency key. The outcome is driven by the caller's payload so tests and
the demo can take every path on purpose:

- ``data["hub_error"] == "refused"``: the hub refuses for good (``Result.fail``, permanent,
  so the entity goes to its workflow's failure status);
- ``data["hub_error"] == "unavailable"``: the hub is down (``Result.fail``, not permanent:
  nothing changes and calling again is the retry);
- anything else: the request is recorded and the hub answers later (an observed transition
  from ``datahub_poller``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from wfnb.engine.usecases import Result, StepContext
from wfnb.examples.energy.common import attempt_key, claim_attempt_keys, tenant_of
from wfnb.examples.energy.schema import hub_requests

__all__ = [
    "HUB_ERROR_KEY",
    "deregister_user_at_hub",
    "find_claimed_request",
    "hub_failure",
    "register_user_at_hub",
    "request_at_hub",
]

HUB_ERROR_KEY = "hub_error"
"""Payload key that makes the simulated hub refuse (``refused``) or be down (``unavailable``)."""


def hub_failure(ctx: StepContext) -> Result | None:
    """The failure the simulated hub answers with, or None when it accepts the request."""
    error = ctx.data.get(HUB_ERROR_KEY)
    if error == "refused":
        return Result.fail("hub_refused", "the data hub refused the request", permanent=True)
    if error == "unavailable":
        return Result.fail("hub_unavailable", "the data hub did not answer; try again later")
    return None


def request_at_hub(ctx: StepContext, kind: str, payload: Mapping[str, Any]) -> Result:
    """Send one ``kind`` request about ``ctx``'s entity to the hub, unless the hub fails."""
    failure = hub_failure(ctx)
    if failure is not None:
        return failure
    request_id = f"{kind}:{attempt_key(ctx)}"
    ctx.conn.execute(
        sa.insert(hub_requests).values(
            request_id=request_id,
            kind=kind,
            entity_table=ctx.workflow.entity.table,
            entity_id=ctx.entity_id,
            tenant_id=tenant_of(ctx),
            payload=dict(payload),
            requested_at=ctx.now,
        )
    )
    ctx.emit("datahub.requested", kind=kind, request_id=request_id)
    return Result.ok(hub_request_id=request_id)


def find_claimed_request(ctx: StepContext, kind: str) -> str | None:
    """The id of the ``kind`` request sent by the claim the entity holds now, if any."""
    wanted = [f"{kind}:{key}" for key in claim_attempt_keys(ctx)]
    row = ctx.conn.execute(
        sa.select(hub_requests.c.request_id).where(hub_requests.c.request_id.in_(wanted))
    ).first()
    return None if row is None else str(row.request_id)


def register_user_at_hub(ctx: StepContext) -> Result:
    """Action: ask the hub to register the member's supply point in the community."""
    payload = {"supply_point": ctx.entity.get("supply_point"), "email": ctx.entity.get("email")}
    return request_at_hub(ctx, "register_user", payload)


def deregister_user_at_hub(ctx: StepContext) -> Result:
    """Action: ask the hub to take the member's supply point out of the community."""
    return request_at_hub(ctx, "deregister_user", {"supply_point": ctx.entity.get("supply_point")})

"""The energy community as a scenario: members, sharing groups, billing periods, invoices.

The payloads take every path of the example use cases on purpose (see their module
docstrings): a wrong token or a missing supply contract is a rejection, ``hub_error:
refused`` a permanent failure, ``unavailable`` a retry, ``delivery_error:
invalid_address`` an undeliverable invoice. Factories insert rows with deterministic
ids and timestamps; closing a billing period issues one invoice per active member.

Who acts: a member runs the steps of their own registration as ``user`` (their user id),
a sharing group's founder (a member of its community) runs the group's ``user`` steps,
and the community admins in ``STAFF`` run the ``admin`` steps, each for the communities
they look after. ``system`` steps (timers, the billing batch) carry no user.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from wfnb.examples.energy import schema
from wfnb.simulation.scenario import Scenario

if TYPE_CHECKING:
    from wfnb.simulation.simulate import Simulation

__all__ = [
    "STAFF",
    "TENANTS",
    "energy_scenario",
    "issue_invoices",
    "make_group",
    "make_invoice",
    "make_period",
    "make_user",
]

TENANTS = {"community_a": 5.0, "community_b": 3.0, "community_c": 2.0}
IBAN = "CZ6508000000192000145399"
SHA = "ab" * 32
DOCS = [
    {"kind": "id_card", "filename": "op.pdf", "sha256": SHA},
    {"kind": "supply_contract", "filename": "smlouva.pdf", "sha256": SHA},
]
STAFF = (
    {"id": "admin:alice", "requester_type": "admin", "tenants": ["community_a"], "weight": 3},
    {"id": "admin:bob", "requester_type": "admin", "tenants": ["community_a", "community_b"]},
    {"id": "admin:carol", "requester_type": "admin", "tenants": ["community_b"], "weight": 2},
    {"id": "admin:dave", "requester_type": "admin", "tenants": ["community_c"], "weight": 2},
)
"""The community admins: stable ids written to ``workflow_history.user_id``."""
_NAMES = ("Jana Nováková", "Petr Svoboda", "Eva Dvořáková", "Tomáš Černý", "Lucie Veselá")
_HERE = "wfnb.simulation.energy"


def _exp(mean: str) -> dict[str, str]:
    return {"dist": "exponential", "mean": mean}


def _step(step: str, who: str, p: float, mean: str, payload: Any = None) -> dict[str, Any]:
    action: dict[str, Any] = {
        "step": step, "requester_type": who, "probability": p, "delay": _exp(mean)
    }  # fmt: skip
    if payload is not None:
        action["payload"] = payload
    return action


def _seen(to: str, source: str, p: float, mean: str) -> dict[str, Any]:
    return {"observe": {"to": to, "source": source}, "probability": p, "delay": _exp(mean)}


def _reason(text: str) -> dict[str, str]:
    return {"reason": text}


_REGISTRATION: dict[str, list[dict[str, Any]]] = {
    "pending_email_verification": [
        _step("verify_email", "user", 0.88, "PT20H", [
            {"weight": 95, "data": {"token": "tok-{id}"}},
            {"weight": 5, "data": {"token": "typo"}},
        ]),
        _step("resend_verification_email", "user", 0.02, "P1D"),
    ],
    "pending_documents": [
        _step("upload_documents", "user", 0.82, "P3D", [
            {"weight": 85, "data": {"documents": DOCS}},
            {"weight": 15, "data": {"documents": DOCS[:1]}},
        ]),
        _step("upload_documents", "admin", 0.05, "P5D", {"documents": DOCS}),
        _step("withdraw", "user", 0.03, "P4D"),
    ],
    "documents_uploaded": [_step("queue_for_review", "system", 1.0, "PT1H")],
    "pending_admin_approval": [
        _step("approve", "admin", 0.8, "P2D", [
            {"weight": 94, "data": {}},
            {"weight": 3, "data": {"hub_error": "refused"}},
            {"weight": 3, "data": {"hub_error": "unavailable"}},
        ]),
        _step("reject", "admin", 0.05, "P3D", _reason("not a member of the community area")),
        _step("request_more_info", "admin", 0.15, "P2D", {"question": "Which supply point?"}),
    ],
    "pending_more_info": [
        _step("provide_more_info", "user", 0.8, "P3D", {"answer": "The one at home."}),
        _step("withdraw_during_review", "user", 0.05, "P5D"),
    ],
    "pending_hub_registration": [
        _seen("active", "datahub_poller", 0.85, "P4D"),
        _seen("hub_rejected", "datahub_poller", 0.05, "P6D"),
        _step("confirm_hub_registration", "admin", 0.04, "P5D", {"hub_reference": "DH-{id}"}),
    ],
    "hub_rejected": [
        _step("resubmit_to_hub", "admin", 0.6, "P3D", _reason("supply point corrected")),
        _step("close_after_hub_rejection", "admin", 0.4, "P5D"),
    ],
    "active": [
        _step("update_profile", "user", 0.25, "P20D", {"full_name": "Jana Nová"}),
        _step("suspend", "admin", 0.02, "P40D", _reason("unpaid invoices")),
        _step("close_account", "user", 0.03, "P60D"),
    ],
    "suspended": [_step("reactivate", "admin", 0.8, "P10D", _reason("paid"))],
}  # fmt: skip

_MEMBERS_OK = {"members": [
    {"user_id": "usr_founder", "share_percent": "60"},
    {"user_id": "usr_neighbour", "share_percent": "40"},
]}  # fmt: skip
_MEMBERS_BAD = {"members": [
    {"user_id": "usr_founder", "share_percent": "60"},
    {"user_id": "usr_neighbour", "share_percent": "50"},
]}  # fmt: skip

_SHARING: dict[str, list[dict[str, Any]]] = {
    "draft": [
        _step("submit", "user", 0.9, "P5D", [
            {"weight": 85, "data": _MEMBERS_OK}, {"weight": 15, "data": _MEMBERS_BAD},
        ]),
        _step("cancel", "user", 0.05, "P10D"),
    ],
    "submitted": [
        _step("approve", "admin", 0.8, "P3D", [
            {"weight": 92, "data": {}}, {"weight": 8, "data": {"hub_error": "refused"}},
        ]),
        _step("reject", "admin", 0.05, "P4D", _reason("allocation keys not signed")),
        _step("return_to_draft", "admin", 0.15, "P2D", _reason("a member is missing")),
    ],
    "pending_hub_registration": [
        _seen("registered", "datahub_poller", 0.8, "P7D"),
        _seen("hub_rejected", "datahub_poller", 0.1, "P7D"),
    ],
    "hub_timeout": [
        _step("retry_registration", "admin", 0.6, "P3D"),
        _step("abandon_registration", "admin", 0.4, "P5D"),
    ],
    "hub_rejected": [
        _step("revise", "user", 0.7, "P4D"),
        _step("abandon_after_hub_rejection", "admin", 0.3, "P6D"),
    ],
    "registered": [_step("activate", "system", 1.0, "P1D")],
    "active": [
        _step("change_allocation", "user", 0.2, "P30D", _MEMBERS_OK),
        _step("dissolve", "admin", 0.03, "P60D", _reason("the building was sold")),
    ],
}  # fmt: skip

_PAID = {"amount_cents": 10_000_000, "bank_reference": "VS-{id}"}
_PARTIAL = {"amount_cents": 1_000, "bank_reference": "VS-{id}-part"}

_INVOICE: dict[str, list[dict[str, Any]]] = {
    "draft": [
        {"step": "approve", "requester_type": "system", "probability": 0.97, "batch": True,
         "delay": {"dist": "fixed", "value": "PT6H"}},
        _step("cancel", "admin", 0.03, "P1D"),
    ],
    "approved": [
        _step("send", "system", 0.97, "PT4H", [
            {"weight": 97, "data": {}},
            {"weight": 2, "data": {"delivery_error": "invalid_address"}},
            {"weight": 1, "data": {"delivery_error": "mail_unavailable"}},
        ]),
        _step("cancel_approved", "admin", 0.03, "P1D"),
    ],
    "sent": [
        _seen("paid", "bank_feed", 0.75, "P6D"),
        _step("record_payment", "admin", 0.12, "P8D", [
            {"weight": 85, "data": _PAID}, {"weight": 15, "data": _PARTIAL},
        ]),
        _step("mark_undeliverable", "admin", 0.01, "P5D", _reason("returned by the post")),
    ],
    "overdue": [
        _seen("paid", "bank_feed", 0.6, "P8D"),
        _step("record_late_payment", "admin", 0.2, "P10D", _PAID),
        _step("write_off", "admin", 0.05, "P30D", _reason("the member moved abroad")),
    ],
}  # fmt: skip


def energy_scenario(
    *, users: int = 3000, groups: int = 40, months: int = 6, tenants: Mapping[str, float] = TENANTS
) -> Scenario:
    """The demo's scenario: ``users`` members and ``groups`` groups over ``months`` months."""
    spread = dict(tenants)
    return Scenario.model_validate(
        {
            "workflows": {
                "user_registration": {"statuses": _REGISTRATION, "actors": {"user": "{id}"}},
                "sharing_group": {"statuses": _SHARING, "actors": {"user": "{founder_id}"}},
                "invoice": {"statuses": _INVOICE},
                "billing_period": {"on_enter": {"closed": f"{_HERE}:issue_invoices"}},
            },
            "arrivals": [
                {"workflow": "user_registration", "count": users, "factory": f"{_HERE}:make_user",
                 "tenants": spread, "id_prefix": "usr"},
                {"workflow": "sharing_group", "count": groups, "factory": f"{_HERE}:make_group",
                 "tenants": spread, "id_prefix": "grp"},
                {"workflow": "billing_period", "count": months, "every": "P1M",
                 "factory": f"{_HERE}:make_period", "id_prefix": "bp"},
            ],
            "staff": STAFF,
        }
    )  # fmt: skip


def _number(entity_id: str) -> int:
    return int(entity_id.rsplit("_", 1)[-1])


def make_user(
    conn: sa.Connection, *, entity_id: str, tenant_id: str | None, at: datetime, **_: Any
) -> dict[str, Any]:
    """Insert a member whose e-mail token is ``tok-<id>`` (what the scenario verifies with)."""
    n = _number(entity_id)
    values: dict[str, Any] = {
        "id": entity_id,
        "tenant_id": tenant_id or "community_a",
        "email": f"member{n}@example.org",
        "email_token": f"tok-{entity_id}",
        "full_name": _NAMES[n % len(_NAMES)],
        "supply_point": f"859182400{n:09d}",
        "created_at": at,
    }
    schema.insert_user(conn, **values)
    return values


def _founder(conn: sa.Connection, tenant_id: str, n: int) -> str | None:
    """A member who signed up before now, of the group's community when there is one."""
    users = schema.users
    for where in (users.c.tenant_id == tenant_id, sa.true()):
        ids = conn.execute(sa.select(users.c.id).where(where).order_by(users.c.id)).scalars()
        found = list(ids)
        if found:
            return str(found[n % len(found)])
    return None


def make_group(
    conn: sa.Connection, *, entity_id: str, tenant_id: str | None, at: datetime, **_: Any
) -> dict[str, Any]:
    """Insert a sharing group in draft; ``founder_id`` (not a column) is the member who acts.

    The founder is a member of the group's community who signed up before it (picked by
    the group's number, not by the simulation's random stream).
    """
    values: dict[str, Any] = {
        "id": entity_id,
        "tenant_id": tenant_id or "community_a",
        "name": f"Bytový dům č. {_number(entity_id)}",
        "created_at": at,
    }
    schema.insert_sharing_group(conn, **values)
    return {**values, "founder_id": _founder(conn, values["tenant_id"], _number(entity_id))}


def make_period(conn: sa.Connection, *, entity_id: str, at: datetime, **_: Any) -> dict[str, Any]:
    """Insert the billing period of the month that starts at ``at``."""
    start = at.date()
    schema.insert_billing_period(conn, start, id=entity_id)
    return {"id": entity_id, "period_start": start}


def make_invoice(
    conn: sa.Connection,
    *,
    entity_id: str,
    tenant_id: str | None,
    at: datetime,
    values: Mapping[str, Any],
    **_: Any,
) -> dict[str, Any]:
    """Insert a draft invoice with the given customer, period and amount."""
    row: dict[str, Any] = {
        "id": entity_id,
        "tenant_id": tenant_id or "community_a",
        "payee_iban": IBAN,
        "created_at": at,
        **values,
    }
    schema.insert_invoice(conn, **row)
    return row


def issue_invoices(sim: Simulation, workflow: str, period_id: str) -> None:
    """Hook on a closed billing period: one draft invoice per active member."""
    del workflow  # the hook is registered for billing_period only
    users = schema.users
    with sim.engine.db.connect() as conn:
        members = conn.execute(
            sa.select(users.c.id, users.c.tenant_id, users.c.email)
            .where(users.c.status.in_(("active", "suspended")))
            .order_by(users.c.id)
        ).all()
    for member in members:
        sim.create(
            "invoice",
            tenant_id=member.tenant_id,
            values={
                "customer_id": member.id,
                "customer_email": member.email,
                "billing_period_id": period_id,
                "amount_cents": sim.rng.randint(40_000, 400_000),
            },
            factory=make_invoice,
            id_prefix="inv",
        )

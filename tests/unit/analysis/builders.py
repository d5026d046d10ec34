"""Hand-built workflows whose graph properties are known by construction."""

from __future__ import annotations

from typing import Any

from wfnb.spec import Workflow


def step(key: str, status: str, to: str, **fields: Any) -> dict[str, Any]:
    return {"key": key, "status": status, "successful_state": to, **fields}


def build(
    statuses: list[str],
    steps: list[dict[str, Any]],
    *,
    initial: str,
    terminal: list[str],
    failure: list[str] | None = None,
    name: str = "flow",
    **extra: Any,
) -> Workflow:
    data: dict[str, Any] = {
        "name": name,
        "owning_module": "tests",
        "entity": {"table": "things"},
        "use_cases": "json",
        "requester_types": ["user", "admin", "system"],
        "status_types": statuses,
        "initial_status": initial,
        "terminal_statuses": terminal,
        "failure_statuses": failure or [],
        "steps": steps,
        **extra,
    }
    return Workflow.model_validate(data)


def maze() -> Workflow:
    """Known answers (worked out by hand):

    edges  start->a [user]  start->b [admin, via an override of s1]  start->b [admin, s2]
           a->c [user]  a->done [admin]  a->stuck [all]  b->c [admin]  b->failed [admin]
           b->b [rejection of s7, admin]  c->done [admin]  c->a [user]
           c->done [observed "hub"]  a->stuck [timer "escalate", system]  orphan->done [all]
    unreachable (orphan,)          dead ends (stuck,)
    cycles {a,c}, {b}              paths to done 4, to failed 1
    shortest done (start,a,done), failed (start,b,failed)
    as user: reaches start,a,c,stuck (observed c->done is not the user's); dead end stuck
    as admin: reaches start,b,c,done,failed; shortest done (start,b,c,done)
    as system: reaches start only; dead end start
    """
    return build(
        ["start", "a", "b", "c", "done", "failed", "orphan", "stuck"],
        [
            step(
                "s1",
                "start",
                "a",
                requester_types=["user", "admin"],
                overrides={"admin": {"successful_state": "b"}},
            ),
            step("s2", "start", "b", requester_types=["admin"]),
            step("s3", "a", "c", requester_types=["user"]),
            step("s10", "a", "done", requester_types=["admin"]),
            step("s4", "b", "c", requester_types=["admin"]),
            step("s5", "c", "done", requester_types=["admin"]),
            step("s6", "c", "a", requester_types=["user"]),
            step("s7", "b", "failed", requester_types=["admin"], rejection={"state": "b"}),
            step("s8", "orphan", "done"),
            step("s9", "a", "stuck"),
        ],
        initial="start",
        terminal=["done", "failed"],
        failure=["failed"],
        observed_transitions=[{"from": "c", "to": "done", "source": "hub"}],
        timers=[
            {
                "key": "escalate",
                "status": "a",
                "after": "P1D",
                "step": "s9",
                "requester_type": "system",
            }
        ],
    )


def registration(**changes: Any) -> Workflow:
    """The example of workflow-format.md: a claim, an override, a rejection, timers."""
    data: dict[str, Any] = {
        "name": "user_registration",
        "owning_module": "identity",
        "entity": {"table": "users"},
        "use_cases": "wfnb.examples.energy.registration",
        "requester_types": ["user", "admin", "system"],
        "status_types": [
            "pending_email_verification",
            "pending_documents",
            "documents_uploaded",
            "pending_admin_approval",
            "registering_at_hub",
            "pending_hub_registration",
            "active",
            "rejected",
        ],
        "initial_status": "pending_email_verification",
        "terminal_statuses": ["active", "rejected"],
        "failure_statuses": ["rejected"],
        "steps": [
            step(
                "verify_email",
                "pending_email_verification",
                "pending_documents",
                requester_types=["user"],
                validation="check_email_token",
            ),
            step(
                "upload_documents",
                "pending_documents",
                "documents_uploaded",
                requester_types=["user", "admin"],
                validation="validate_documents",
                action="store_documents",
                rejection={"state": "pending_documents", "action": "notify_documents_rejected"},
                auto_advance=True,
                overrides={
                    "admin": {
                        "validation": "validate_documents_admin",
                        "successful_state": "pending_admin_approval",
                    }
                },
            ),
            step(
                "queue_for_review",
                "documents_uploaded",
                "pending_admin_approval",
                requester_types=["user", "system"],
            ),
            step(
                "approve",
                "pending_admin_approval",
                "pending_hub_registration",
                requester_types=["admin"],
                action="register_at_datahub",
                claim={"status": "registering_at_hub", "stale_after": "PT10M"},
            ),
            step(
                "reject",
                "pending_admin_approval",
                "rejected",
                requester_types=["admin"],
                action="notify_registration_rejected",
            ),
            step(
                "send_document_reminder",
                "pending_documents",
                "pending_documents",
                requester_types=["system"],
                action="email_document_reminder",
            ),
            step("expire", "pending_hub_registration", "rejected", requester_types=["system"]),
        ],
        "observed_transitions": [
            {"from": "pending_hub_registration", "to": "active", "source": "datahub_poller"}
        ],
        "timers": [
            {
                "key": "remind_documents",
                "status": "pending_documents",
                "after": "P7D",
                "step": "send_document_reminder",
                "requester_type": "system",
            },
            {
                "key": "hub_deadline",
                "status": "pending_hub_registration",
                "after": "P30D",
                "step": "expire",
                "requester_type": "system",
            },
        ],
    }
    data.update(changes)
    return Workflow.model_validate(data)


def invoice(**changes: Any) -> dict[str, Any]:
    """draft -submit-> review -approve-> approved -pay-> paid; draft -cancel-> cancelled."""
    data: dict[str, Any] = {
        "name": "invoice",
        "owning_module": "billing",
        "entity": {"table": "invoices"},
        "use_cases": "json",
        "requester_types": ["user", "admin", "system"],
        "status_types": ["draft", "review", "approved", "paid", "cancelled"],
        "initial_status": "draft",
        "terminal_statuses": ["paid", "cancelled"],
        "failure_statuses": ["cancelled"],
        "steps": [
            step("submit", "draft", "review", requester_types=["user"]),
            step(
                "approve",
                "review",
                "approved",
                requester_types=["admin"],
                validation="check_invoice",
                rejection={"state": "draft"},
            ),
            step("pay", "approved", "paid", action="send_payment"),
            step("cancel", "draft", "cancelled", requester_types=["user", "admin"]),
        ],
        "timers": [
            {
                "key": "auto_pay",
                "status": "approved",
                "after": "P14D",
                "step": "pay",
                "requester_type": "system",
            }
        ],
    }
    data.update(changes)
    return data

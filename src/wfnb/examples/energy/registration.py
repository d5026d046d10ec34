"""Use cases of ``user_registration`` up to the admin's decision (module ``identity``).

E-mail verification, documents, review and the member's answers to questions. What happens
from approval on (hub, suspension, profile, closure, the claim janitor) lives in
:mod:`wfnb.examples.energy.membership` and is re-exported here, so the workflow's
``use_cases`` module holds every name its steps use.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from wfnb.engine.usecases import Result, StepContext
from wfnb.examples.energy.common import EMAIL_RE, entity_where, require_reason, text_field
from wfnb.examples.energy.membership import (
    add_note,
    check_hub_reference,
    close_account_by_admin,
    identity_janitor,
    notify_registration_rejected,
    record_hub_confirmation,
    record_hub_correction,
    record_hub_timeout,
    record_reactivation,
    record_suspension,
    update_profile,
    validate_profile,
)
from wfnb.examples.energy.notifications import queue_mail
from wfnb.examples.energy.schema import user_documents, users

__all__ = [
    "DOCUMENT_KINDS",
    "REQUIRED_DOCUMENTS",
    "change_email",
    "check_email_token",
    "check_hub_reference",
    "check_info_request",
    "close_account_by_admin",
    "email_document_reminder",
    "email_more_info_reminder",
    "identity_janitor",
    "mark_email_verified",
    "notify_documents_rejected",
    "notify_registration_rejected",
    "record_admin_document_rejection",
    "record_hub_confirmation",
    "record_hub_correction",
    "record_hub_timeout",
    "record_info_request",
    "record_reactivation",
    "record_suspension",
    "require_reason",
    "send_verification_email",
    "store_documents",
    "store_more_info",
    "update_profile",
    "validate_documents",
    "validate_documents_admin",
    "validate_more_info",
    "validate_new_email",
    "validate_profile",
]

DOCUMENT_KINDS = frozenset({"id_card", "supply_contract", "proof_of_address", "power_of_attorney"})
REQUIRED_DOCUMENTS = frozenset({"id_card", "supply_contract"})
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


# --- e-mail -------------------------------------------------------------------------------
def _new_token(ctx: StepContext) -> str:
    # deterministic for a given entity and clock, so simulations replay identically
    return hashlib.sha256(f"{ctx.entity_id}:{ctx.now.isoformat()}".encode()).hexdigest()[:16]


def check_email_token(ctx: StepContext) -> Result:
    """Validation: ``data["token"]`` must equal the token last mailed to the user."""
    token = text_field(ctx.data, "token")
    if token is None or token != ctx.entity.get("email_token"):
        return Result.reject("the e-mail verification token does not match", code="token_mismatch")
    return Result.ok()


def mark_email_verified(ctx: StepContext) -> Result:
    """Action: stamp the verification and burn the token."""
    ctx.conn.execute(
        sa.update(users)
        .where(entity_where(ctx, users))
        .values(email_verified_at=ctx.now, email_token=None)
    )
    ctx.emit("user.email_verified", email=ctx.entity.get("email"))
    return Result.ok(verified_at=ctx.now.isoformat())


def send_verification_email(ctx: StepContext) -> Result:
    """Action: mail a fresh verification token (the old one stops working)."""
    token = _new_token(ctx)
    ctx.conn.execute(sa.update(users).where(entity_where(ctx, users)).values(email_token=token))
    queue_mail(ctx, "user_registration.verify_email", token=token)
    return Result.ok(resent=True)


def validate_new_email(ctx: StepContext) -> Result:
    """Validation: ``data["email"]`` is an address, and a different one."""
    email = text_field(ctx.data, "email")
    if email is None or not EMAIL_RE.match(email):
        return Result.reject("not an e-mail address", code="invalid_email")
    if email.lower() == str(ctx.entity.get("email", "")).lower():
        return Result.reject("that is already the registered address", code="same_email")
    return Result.ok()


def change_email(ctx: StepContext) -> Result:
    """Action: switch to the new address and mail it a fresh token."""
    email = str(ctx.data["email"]).strip()
    token = _new_token(ctx)
    ctx.conn.execute(
        sa.update(users).where(entity_where(ctx, users)).values(email=email, email_token=token)
    )
    queue_mail(ctx, "user_registration.verify_email", recipient=email, token=token)
    return Result.ok(email=email)


# --- documents ----------------------------------------------------------------------------
def _document_problem(documents: object) -> str | None:
    """Why ``documents`` is not a non-empty list of well-formed documents, or None."""
    if not isinstance(documents, Sequence) or isinstance(documents, str) or not documents:
        return "no documents attached"
    for doc in documents:
        if not isinstance(doc, Mapping) or doc.get("kind") not in DOCUMENT_KINDS:
            return f"unknown document kind in {doc!r}"
        if not text_field(doc, "filename") or not _SHA256.match(str(doc.get("sha256", ""))):
            return f"document {doc.get('filename')!r} needs a filename and a sha256"
    return None


def validate_documents(ctx: StepContext) -> Result:
    """Validation: well-formed documents that include an id card and a supply contract."""
    documents = ctx.data.get("documents")
    problem = _document_problem(documents)
    if problem is not None:
        return Result.reject(problem, code="invalid_documents")
    assert isinstance(documents, Sequence)  # checked by _document_problem
    missing = REQUIRED_DOCUMENTS - {doc["kind"] for doc in documents}
    if missing:
        return Result.reject(
            f"missing required documents: {', '.join(sorted(missing))}",
            code="documents_missing",
        )
    return Result.ok(documents=len(documents))


def validate_documents_admin(ctx: StepContext) -> Result:
    """Validation for admins: well-formed documents; the originals were seen at the desk."""
    problem = _document_problem(ctx.data.get("documents"))
    return Result.reject(problem, code="invalid_documents") if problem else Result.ok()


def store_documents(ctx: StepContext) -> Result:
    """Action: keep one ``user_documents`` row per uploaded document."""
    documents: Sequence[Mapping[str, Any]] = ctx.data["documents"]
    rows = [
        {
            "user_id": ctx.entity_id,
            "kind": doc["kind"],
            "filename": str(doc["filename"]).strip(),
            "sha256": doc["sha256"],
            "uploaded_by": ctx.requester.type,
            "uploaded_at": ctx.now,
        }
        for doc in documents
    ]
    ctx.conn.execute(sa.insert(user_documents), rows)
    ctx.emit("user.documents_uploaded", count=len(rows))
    return Result.ok(stored=len(rows))


def notify_documents_rejected(ctx: StepContext) -> Result:
    """Rejection action: tell the user why the documents were not accepted."""
    queue_mail(ctx, "user_registration.documents_rejected", reason=ctx.data.get("reason"))
    return Result.ok()


def record_admin_document_rejection(ctx: StepContext) -> Result:
    """Rejection action for admins: a note for the file instead of a mail to the user."""
    add_note(ctx, "document_rejection", "documents uploaded at the desk were not accepted")
    return Result.ok()


def email_document_reminder(ctx: StepContext) -> Result:
    """Action (timer): remind the user that documents are still missing."""
    queue_mail(ctx, "user_registration.documents_reminder")
    return Result.ok()


# --- questions during review --------------------------------------------------------------
def check_info_request(ctx: StepContext) -> Result:
    """Validation: the admin must write the question (``data["question"]``)."""
    if text_field(ctx.data, "question") is None:
        return Result.reject("a question for the member is required", code="question_required")
    return Result.ok()


def record_info_request(ctx: StepContext) -> Result:
    """Action: keep the question and mail it to the member."""
    question = str(ctx.data["question"]).strip()
    add_note(ctx, "info_request", question)
    queue_mail(ctx, "user_registration.more_info_requested", question=question)
    return Result.ok()


def validate_more_info(ctx: StepContext) -> Result:
    """Validation: the member's answer (``data["answer"]``) is not empty."""
    if text_field(ctx.data, "answer") is None:
        return Result.reject("the answer is empty", code="answer_required")
    return Result.ok()


def store_more_info(ctx: StepContext) -> Result:
    """Action: keep the member's answer for the reviewer."""
    add_note(ctx, "info_answer", str(ctx.data["answer"]).strip())
    return Result.ok()


def email_more_info_reminder(ctx: StepContext) -> Result:
    """Action (timer): remind the member that a question is waiting."""
    queue_mail(ctx, "user_registration.more_info_reminder")
    return Result.ok()

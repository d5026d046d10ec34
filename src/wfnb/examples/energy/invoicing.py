"""Use cases of ``invoice`` (module ``invoicing``) and its claim janitor.

Approval is batch-aware (``@batch``): a month's invoices are approved in one call and one
UPDATE per connection. Payments arrive either as an observed transition from ``bank_feed``
or through an admin who records them (a partial payment takes the rejection path).
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import timedelta

import sqlalchemy as sa

from wfnb.engine.usecases import Result, StepContext, batch
from wfnb.examples.energy.common import (
    EMAIL_RE,
    attempt_key,
    claim_attempt_keys,
    entity_where,
    forward,
    release,
    require_reason,
)
from wfnb.examples.energy.notifications import queue_mail
from wfnb.examples.energy.schema import invoice_payments, invoices, notifications

__all__ = [
    "PAYMENT_TERM",
    "approve_invoices",
    "check_recipient",
    "email_payment_reminder",
    "iban_is_valid",
    "invoicing_janitor",
    "notify_invoice_rejected",
    "record_overdue",
    "record_partial_payment",
    "record_payment",
    "record_write_off",
    "require_reason",
    "send_invoice",
    "validate_invoice",
    "validate_payment",
]

PAYMENT_TERM = timedelta(days=14)
"""Due date = sending date + this; the workflow's ``due`` timer uses the same P14D."""
SENT_TEMPLATE = "invoice.sent"
_IBAN = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$")


def iban_is_valid(iban: str) -> bool:
    """ISO 13616 check: shape, then the mod-97 checksum over the rearranged digits."""
    compact = iban.replace(" ", "").upper()
    if not _IBAN.match(compact):
        return False
    digits = "".join(str(int(ch, 36)) for ch in compact[4:] + compact[:4])
    return int(digits) % 97 == 1


def validate_invoice(ctx: StepContext) -> Result:
    """Validation: a positive amount and a payee IBAN with a valid checksum."""
    if int(ctx.entity["amount_cents"]) <= 0:
        return Result.reject("an invoice needs a positive amount", code="amount_not_positive")
    if not iban_is_valid(str(ctx.entity["payee_iban"])):
        return Result.reject(
            f"payee IBAN {ctx.entity['payee_iban']!r} is not valid", code="invalid_iban"
        )
    return Result.ok()


@batch
def approve_invoices(contexts: list[StepContext]) -> list[Result]:
    """Action (batch-aware): stamp ``approved_at`` with one UPDATE per connection and clock."""
    groups: defaultdict[tuple[int, object], list[StepContext]] = defaultdict(list)
    for ctx in contexts:
        groups[id(ctx.conn), ctx.now].append(ctx)
    for group in groups.values():
        first = group[0]
        ids = [ctx.entity_id for ctx in group]
        first.conn.execute(
            sa.update(invoices).where(invoices.c.id.in_(ids)).values(approved_at=first.now)
        )
    for ctx in contexts:
        ctx.emit("invoice.approved", amount_cents=ctx.entity["amount_cents"])
    return [Result.ok(approved_at=ctx.now.isoformat()) for ctx in contexts]


def notify_invoice_rejected(ctx: StepContext) -> Result:
    """Rejection action: tell the accounting team why the invoice went back to draft."""
    queue_mail(ctx, "invoice.returned_to_draft", recipient="accounting@example.org")
    return Result.ok()


def check_recipient(ctx: StepContext) -> Result:
    """Validation: the customer has an e-mail address to send the invoice to."""
    email = ctx.entity.get("customer_email")
    if not isinstance(email, str) or not EMAIL_RE.match(email):
        return Result.reject("the customer has no valid e-mail address", code="no_recipient")
    return Result.ok()


def send_invoice(ctx: StepContext) -> Result:
    """Action (claimed): mail the invoice and set its due date.

    ``data["delivery_error"]`` simulates the mail provider: ``invalid_address`` is a
    permanent failure (the invoice becomes ``undeliverable``), ``mail_unavailable`` a
    transient one (nothing changes; sending again retries).
    """
    error = ctx.data.get("delivery_error")
    if error == "invalid_address":
        return Result.fail("invalid_address", "the mailbox does not exist", permanent=True)
    if error == "mail_unavailable":
        return Result.fail("mail_unavailable", "the mail provider is down; try again later")
    due = (ctx.now + PAYMENT_TERM).date()
    ctx.conn.execute(
        sa.update(invoices).where(entity_where(ctx, invoices)).values(sent_at=ctx.now, due_date=due)
    )
    queue_mail(ctx, SENT_TEMPLATE, attempt=attempt_key(ctx), due_date=due.isoformat())
    ctx.emit("invoice.sent", amount_cents=ctx.entity["amount_cents"], due_date=due.isoformat())
    return Result.ok(due_date=due.isoformat())


def _payment(ctx: StepContext) -> tuple[int, str] | None:
    amount, reference = ctx.data.get("amount_cents"), ctx.data.get("bank_reference")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        return None
    if not isinstance(reference, str) or not reference.strip():
        return None
    return amount, reference.strip()


def _outstanding(ctx: StepContext) -> int:
    return int(ctx.entity["amount_cents"]) - int(ctx.entity["paid_cents"])


def validate_payment(ctx: StepContext) -> Result:
    """Validation: a well-formed payment; one that leaves a balance is a rejection."""
    payment = _payment(ctx)
    if payment is None:
        return Result.fail("invalid_payment", "amount_cents > 0 and a bank_reference needed")
    remaining = _outstanding(ctx) - payment[0]
    if remaining > 0:
        return Result.reject("partial payment", code="partial_payment", outstanding_cents=remaining)
    return Result.ok(overpaid_cents=-remaining)


def _store_payment(ctx: StepContext, amount: int, reference: str) -> None:
    ctx.conn.execute(
        sa.insert(invoice_payments).values(
            invoice_id=ctx.entity_id,
            amount_cents=amount,
            bank_reference=reference,
            received_at=ctx.now,
            recorded_by=ctx.requester.type,
        )
    )
    ctx.conn.execute(
        sa.update(invoices)
        .where(entity_where(ctx, invoices))
        .values(paid_cents=invoices.c.paid_cents + amount)
    )


def record_payment(ctx: StepContext) -> Result:
    """Action: keep the payment that settles the invoice."""
    amount, reference = _payment(ctx) or (0, "")
    _store_payment(ctx, amount, reference)
    ctx.emit("invoice.paid", amount_cents=amount)
    return Result.ok(paid_cents=amount)


def record_partial_payment(ctx: StepContext) -> Result:
    """Rejection action: keep a payment that did not settle the invoice."""
    amount, reference = _payment(ctx) or (0, "")
    _store_payment(ctx, amount, reference)
    return Result.ok(paid_cents=amount, outstanding_cents=_outstanding(ctx) - amount)


def record_overdue(ctx: StepContext) -> Result:
    """Action (timer): the due date passed unpaid; tell the member."""
    queue_mail(ctx, "invoice.overdue", outstanding_cents=_outstanding(ctx))
    ctx.emit("invoice.overdue", outstanding_cents=_outstanding(ctx))
    return Result.ok(outstanding_cents=_outstanding(ctx))


def email_payment_reminder(ctx: StepContext) -> Result:
    """Action (timer or admin): remind the member of the outstanding amount."""
    queue_mail(ctx, "invoice.payment_reminder", outstanding_cents=_outstanding(ctx))
    return Result.ok()


def record_write_off(ctx: StepContext) -> Result:
    """Action: keep why the outstanding amount is written off."""
    reason = str(ctx.data["reason"]).strip()
    ctx.conn.execute(
        sa.update(invoices).where(entity_where(ctx, invoices)).values(written_off_reason=reason)
    )
    return Result.ok(written_off_cents=_outstanding(ctx))


def invoicing_janitor(ctx: StepContext) -> Result:
    """Decide a stale ``sending`` claim: forward if the mail with its attempt key went out.

    Forwarding also writes what the lost commit of ``send_invoice`` would have: the
    sending time (the mail's) and the due date.
    """
    row = ctx.conn.execute(
        sa.select(notifications.c.id, notifications.c.created_at).where(
            notifications.c.entity_table == ctx.workflow.entity.table,
            notifications.c.entity_id == ctx.entity_id,
            notifications.c.template == SENT_TEMPLATE,
            notifications.c.attempt.in_(claim_attempt_keys(ctx)),
        )
    ).first()
    if row is None:
        return release("the invoice mail never left")
    ctx.conn.execute(
        sa.update(invoices)
        .where(entity_where(ctx, invoices))
        .values(sent_at=row.created_at, due_date=(row.created_at + PAYMENT_TERM).date())
    )
    return forward(f"notification {row.id}")

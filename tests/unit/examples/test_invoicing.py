"""Invoice use cases called directly over a real SQLite connection."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from tests.unit.examples.conftest import NOW, MakeCtx
from wfnb.engine.usecases import ResultKind, StepContext
from wfnb.examples.energy import invoicing as inv
from wfnb.examples.energy.schema import insert_invoice, invoice_payments, invoices, notifications

WF = "invoice"
IBAN = "CZ6508000000192000145399"


@pytest.mark.parametrize(
    ("iban", "valid"),
    [
        (IBAN, True),
        ("CZ65 0800 0000 1920 0014 5399", True),
        ("CZ6508000000192000145398", False),  # one digit off
        ("DE89370400440532013000", True),
        ("not an iban", False),
    ],
)
def test_iban_checksum(iban: str, valid: bool) -> None:
    assert inv.iban_is_valid(iban) is valid


def test_invoice_validation(conn: sa.Connection, make_ctx: MakeCtx) -> None:
    good = insert_invoice(conn)
    free = insert_invoice(conn, amount_cents=0)
    bad_iban = insert_invoice(conn, payee_iban="CZ6508000000192000145398")
    kinds = [
        inv.validate_invoice(make_ctx(WF, i, "approve", requester="admin")).kind
        for i in (good, free, bad_iban)
    ]
    assert kinds == [ResultKind.OK, ResultKind.REJECTED, ResultKind.REJECTED]


def test_batch_approval_is_one_update(conn: sa.Connection, make_ctx: MakeCtx) -> None:
    ids = [insert_invoice(conn) for _ in range(5)]
    other = insert_invoice(conn)
    contexts = [make_ctx(WF, i, "approve", requester="system") for i in ids]
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    sa.event.listen(conn, "before_cursor_execute", count)
    try:
        results = inv.approve_invoices(contexts)
    finally:
        sa.event.remove(conn, "before_cursor_execute", count)
    assert [s.split()[0] for s in statements] == ["UPDATE"]
    assert [r.metadata for r in results] == [{"approved_at": NOW.isoformat()}] * 5
    approved = conn.execute(
        sa.select(invoices.c.id).where(invoices.c.approved_at.is_not(None))
    ).scalars()
    assert sorted(approved) == sorted(ids)
    assert other not in ids
    assert all([n for n, _ in c.events] == ["invoice.approved"] for c in contexts)


def test_send_sets_the_due_date_and_mails(conn: sa.Connection, make_ctx: MakeCtx) -> None:
    iid = insert_invoice(conn, status="approved", version=2)
    result = inv.send_invoice(make_ctx(WF, iid, "send", requester="system"))
    assert result.metadata == {"due_date": "2026-03-16"}
    row = conn.execute(sa.select(invoices)).one()
    assert row.due_date == date(2026, 3, 16)
    mail = conn.execute(sa.select(notifications)).one()
    assert (mail.template, mail.attempt) == ("invoice.sent", f"{iid}@2")


def test_send_failures(conn: sa.Connection, make_ctx: MakeCtx) -> None:
    iid = insert_invoice(conn, status="approved")
    gone = make_ctx(WF, iid, "send", requester="system", data={"delivery_error": "invalid_address"})
    down = make_ctx(
        WF, iid, "send", requester="system", data={"delivery_error": "mail_unavailable"}
    )
    r1, r2 = inv.send_invoice(gone), inv.send_invoice(down)
    assert (r1.kind, r1.permanent, r2.kind, r2.permanent) == (
        ResultKind.FAILED,
        True,
        ResultKind.FAILED,
        False,
    )
    assert conn.execute(sa.select(invoices.c.sent_at)).scalar_one() is None


def test_missing_recipient_is_rejected(conn: sa.Connection, make_ctx: MakeCtx) -> None:
    iid = insert_invoice(conn, status="approved", customer_email=None)
    ctx = make_ctx(WF, iid, "send", requester="system")
    assert inv.check_recipient(ctx).kind is ResultKind.REJECTED
    assert ctx.step.rejection is not None
    assert ctx.step.rejection.state == "draft"


def test_payments(conn: sa.Connection, make_ctx: MakeCtx) -> None:
    iid = insert_invoice(conn, status="sent", amount_cents=10_000)

    def ctx(amount: int, step: str = "record_payment") -> StepContext:
        data = {"amount_cents": amount, "bank_reference": "VS2026001"}
        return make_ctx(WF, iid, step, requester="admin", data=data)

    malformed = inv.validate_payment(ctx(-5))
    assert (malformed.kind, malformed.code) == (ResultKind.FAILED, "invalid_payment")
    partial = inv.validate_payment(ctx(4_000))
    assert (partial.kind, dict(partial.metadata)) == (
        ResultKind.REJECTED,
        {"code": "partial_payment", "outstanding_cents": 6_000},
    )
    inv.record_partial_payment(ctx(4_000))
    assert inv.validate_payment(ctx(6_000)).is_ok
    inv.record_payment(ctx(6_000))
    assert conn.execute(sa.select(invoices.c.paid_cents)).scalar_one() == 10_000
    paid = conn.execute(sa.select(invoice_payments.c.amount_cents).order_by("id")).scalars()
    assert list(paid) == [4_000, 6_000]


def test_invoicing_janitor(conn: sa.Connection, make_ctx: MakeCtx) -> None:
    iid = insert_invoice(conn, status="approved", version=3)
    claimed = {"status": "sending", "version": 4}
    conn.execute(sa.update(invoices).where(invoices.c.id == iid).values(**claimed))
    released = inv.invoicing_janitor(make_ctx(WF, iid, "send", requester="system"))
    assert released.kind is ResultKind.REJECTED
    # the action ran on the pre-claim row (version 3) and its mail left; the commit was lost
    conn.execute(
        sa.update(invoices).where(invoices.c.id == iid).values(status="approved", version=3)
    )
    inv.send_invoice(make_ctx(WF, iid, "send", requester="system"))
    conn.execute(
        sa.update(invoices)
        .where(invoices.c.id == iid)
        .values(sent_at=None, due_date=None, **claimed)
    )
    forwarded = inv.invoicing_janitor(make_ctx(WF, iid, "send", requester="system"))
    assert forwarded.is_ok
    assert conn.execute(sa.select(invoices.c.due_date)).scalar_one() == date(2026, 3, 16)

"""Billing-period use cases called directly over a real SQLite connection."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import sqlalchemy as sa

from tests.unit.examples.conftest import MakeCtx
from wfnb.engine.usecases import ResultKind
from wfnb.examples.energy import billing
from wfnb.examples.energy.schema import (
    billing_period_totals,
    billing_periods,
    insert_billing_period,
)

WF = "billing_period"
MID_MONTH = datetime(2026, 1, 20, tzinfo=UTC)
AFTER = datetime(2026, 2, 1, tzinfo=UTC)
TOTALS = [
    {"tenant_id": "community_a", "shared_kwh": "1520.250", "amount_cents": 300_000},
    {"tenant_id": "community_b", "shared_kwh": 88, "amount_cents": 17_600},
]


def test_december_ends_in_january(conn: sa.Connection) -> None:
    pid = insert_billing_period(conn, period_start=date(2026, 12, 1))
    end = conn.execute(
        sa.select(billing_periods.c.period_end).where(billing_periods.c.id == pid)
    ).scalar_one()
    assert end == date(2027, 1, 1)


def test_closing_waits_for_the_end_unless_an_admin_says_why(
    conn: sa.Connection, make_ctx: MakeCtx
) -> None:
    pid = insert_billing_period(conn)
    early = billing.check_period_ended(
        make_ctx(WF, pid, "close", requester="system", now=MID_MONTH)
    )
    assert (early.kind, early.reason) == (ResultKind.REJECTED, "the period runs until 2026-02-01")
    assert billing.check_period_ended(
        make_ctx(WF, pid, "close", requester="system", now=AFTER)
    ).is_ok
    admin = make_ctx(WF, pid, "close", requester="admin", now=MID_MONTH)
    assert admin.step.validation == "check_early_close"
    assert billing.check_early_close(admin).kind is ResultKind.REJECTED
    because = make_ctx(WF, pid, "close", requester="admin", now=MID_MONTH, data={"reason": "audit"})
    assert billing.check_early_close(because).is_ok


def test_close_stores_totals_and_a_reclose_replaces_them(
    conn: sa.Connection, make_ctx: MakeCtx
) -> None:
    pid = insert_billing_period(conn)
    ctx = make_ctx(WF, pid, "close", requester="system", now=AFTER, data={"totals": TOTALS})
    result = billing.close_period(ctx)
    assert result.metadata == {"communities": 2, "amount_cents": 317_600}
    assert ctx.events == [("billing_period.closed", {"communities": 2, "amount_cents": 317_600})]
    billing.close_period(ctx)
    kwh = conn.execute(sa.select(billing_period_totals.c.shared_kwh).order_by("tenant_id"))
    assert list(kwh.scalars()) == [Decimal("1520.250"), Decimal("88.000")]
    assert conn.execute(sa.select(billing_periods.c.closed_at)).scalar_one() is not None


def test_close_failures_are_transient(conn: sa.Connection, make_ctx: MakeCtx) -> None:
    pid = insert_billing_period(conn)
    for data, code in [
        ({"meter_data": "incomplete"}, "meter_data_incomplete"),
        ({"totals": [{"tenant_id": "x", "shared_kwh": -1, "amount_cents": 5}]}, "invalid_totals"),
        ({"totals": "lots"}, "invalid_totals"),
    ]:
        result = billing.close_period(make_ctx(WF, pid, "close", requester="system", data=data))
        assert (result.kind, result.code, result.permanent) == (ResultKind.FAILED, code, False)
    assert conn.execute(sa.select(billing_periods.c.closed_at)).scalar_one() is None


def test_reopen_and_janitor(conn: sa.Connection, make_ctx: MakeCtx) -> None:
    pid = insert_billing_period(conn, status="closing", version=2)
    released = billing.billing_janitor(make_ctx(WF, pid, "close", requester="system"))
    assert released.kind is ResultKind.REJECTED
    conn.execute(sa.update(billing_periods).values(closed_at=AFTER))
    assert billing.billing_janitor(make_ctx(WF, pid, "close", requester="system")).is_ok
    billing.record_reopening(make_ctx(WF, pid, "reopen", requester="admin", data={"reason": "x"}))
    row = conn.execute(sa.select(billing_periods)).one()
    assert (row.closed_at, row.reopen_count) == (None, 1)

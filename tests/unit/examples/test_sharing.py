"""Sharing-group use cases called directly over a real SQLite connection."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from tests.unit.examples.conftest import NOW, MakeCtx
from wfnb.engine.usecases import ResultKind
from wfnb.examples.energy import sharing
from wfnb.examples.energy.schema import (
    hub_requests,
    insert_sharing_group,
    sharing_group_members,
    sharing_groups,
)

WF = "sharing_group"


def members(*shares: tuple[str, object]) -> list[dict[str, object]]:
    return [{"user_id": u, "share_percent": s} for u, s in shares]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (members(("a", 60), ("b", 40)), {"a": 6000, "b": 4000}),
        (
            members(("a", "33.33"), ("b", "33.33"), ("c", "33.34")),
            {"a": 3333, "b": 3333, "c": 3334},
        ),
        (members(("a", 100)), "a sharing group needs at least two members"),
        (members(("a", 50), ("b", 40)), "shares add up to 90 %, not 100 %"),
        (members(("a", 50), ("a", 50)), "a member is listed twice"),
        (
            members(("a", "12.345"), ("b", "87.655")),
            "share of a must be in (0, 100] with at most two decimals",
        ),
        (members(("a", "x"), ("b", 100)), "share of a is not a number"),
        ("ab", "a sharing group needs at least two members"),
    ],
)
def test_allocation_keys(given: object, expected: object) -> None:
    assert sharing.allocation_keys(given) == expected


def test_submit_stores_and_replaces_members(conn: sa.Connection, make_ctx: MakeCtx) -> None:
    gid = insert_sharing_group(conn)
    first = make_ctx(WF, gid, "submit", data={"members": members(("a", 50), ("b", 50))})
    assert sharing.validate_allocation(first).is_ok
    sharing.store_allocation_keys(first)
    second = make_ctx(WF, gid, "submit", data={"members": members(("c", 70), ("d", 30))})
    assert sharing.store_allocation_keys(second).metadata == {"members": 2}
    rows = conn.execute(
        sa.select(sharing_group_members.c.user_id, sharing_group_members.c.share_bp).order_by(
            sharing_group_members.c.user_id
        )
    ).all()
    assert [tuple(r) for r in rows] == [("c", 7000), ("d", 3000)]


def test_bad_allocation_is_rejected(conn: sa.Connection, make_ctx: MakeCtx) -> None:
    gid = insert_sharing_group(conn)
    ctx = make_ctx(WF, gid, "submit", data={"members": members(("a", 50), ("b", 40))})
    result = sharing.validate_allocation(ctx)
    assert (result.kind, result.reason) == (ResultKind.REJECTED, "shares add up to 90 %, not 100 %")


def test_group_registration_sends_its_members(conn: sa.Connection, make_ctx: MakeCtx) -> None:
    gid = insert_sharing_group(conn, status="submitted", name="Lipová 12")
    sharing.store_allocation_keys(
        make_ctx(WF, gid, "submit", data={"members": members(("u2", 25), ("u1", 75))})
    )
    refused = make_ctx(WF, gid, "approve", requester="admin", data={"hub_error": "refused"})
    assert sharing.register_group_at_hub(refused).permanent
    assert sharing.register_group_at_hub(make_ctx(WF, gid, "approve", requester="admin")).is_ok
    payload = conn.execute(sa.select(hub_requests.c.payload)).scalar_one()
    assert payload == {
        "name": "Lipová 12",
        "members": [{"user_id": "u1", "share_bp": 7500}, {"user_id": "u2", "share_bp": 2500}],
    }


def test_sharing_janitor(conn: sa.Connection, make_ctx: MakeCtx) -> None:
    gid = insert_sharing_group(conn, status="registering_at_hub", version=2)
    assert sharing.sharing_janitor(make_ctx(WF, gid, "approve", requester="system")).kind is (
        ResultKind.REJECTED
    )
    sharing.register_group_at_hub(make_ctx(WF, gid, "approve", requester="admin"))
    assert sharing.sharing_janitor(make_ctx(WF, gid, "approve", requester="system")).is_ok


def test_activation_waits_for_the_start_date(conn: sa.Connection, make_ctx: MakeCtx) -> None:
    gid = insert_sharing_group(conn, status="registered", start_date=date(2026, 4, 1))
    early = sharing.check_start_date(make_ctx(WF, gid, "activate", requester="system"))
    assert (early.kind, early.reason) == (ResultKind.REJECTED, "sharing starts on 2026-04-01")
    bad = make_ctx(WF, gid, "activate", requester="admin", data={"start_date": "soon"})
    assert sharing.check_start_date(bad).kind is ResultKind.REJECTED
    today = make_ctx(WF, gid, "activate", requester="admin", data={"start_date": "2026-03-01"})
    assert sharing.check_start_date(today).is_ok
    sharing.start_sharing(today)
    start = conn.execute(sa.select(sharing_groups.c.start_date)).scalar_one()
    assert start == date(2026, 3, 1)


def test_dissolution_needs_the_hub(conn: sa.Connection, make_ctx: MakeCtx) -> None:
    gid = insert_sharing_group(conn, status="active")
    down = make_ctx(WF, gid, "dissolve", requester="admin", data={"hub_error": "unavailable"})
    assert not sharing.dissolve_group(down).is_ok
    assert conn.execute(sa.select(sharing_groups.c.dissolved_at)).scalar_one() is None
    assert sharing.dissolve_group(make_ctx(WF, gid, "dissolve", requester="admin")).is_ok
    dissolved = conn.execute(sa.select(sharing_groups.c.dissolved_at)).scalar_one()
    assert dissolved == NOW.replace(tzinfo=None)

"""Registration use cases called directly over a real SQLite connection."""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa

from tests.unit.examples.conftest import MakeCtx
from wfnb.engine.usecases import ResultKind
from wfnb.examples.energy import registration as reg
from wfnb.examples.energy.datahub import register_user_at_hub
from wfnb.examples.energy.notifications import notify
from wfnb.examples.energy.schema import (
    hub_requests,
    insert_user,
    notifications,
    registration_notes,
    user_documents,
    users,
)

WF = "user_registration"
SHA = "a" * 64
DOCS = [
    {"kind": "id_card", "filename": "op.pdf", "sha256": SHA},
    {"kind": "supply_contract", "filename": "smlouva.pdf", "sha256": SHA},
]


def user(conn: sa.Connection, user_id: str) -> sa.Row[tuple[object, ...]]:
    return conn.execute(sa.select(users).where(users.c.id == user_id)).one()


def test_email_token_must_match(conn: sa.Connection, make_ctx: MakeCtx) -> None:
    uid = insert_user(conn, email_token="tok-1")
    ok = reg.check_email_token(make_ctx(WF, uid, "verify_email", data={"token": "tok-1"}))
    wrong = reg.check_email_token(make_ctx(WF, uid, "verify_email", data={"token": "tok-2"}))
    missing = reg.check_email_token(make_ctx(WF, uid, "verify_email"))
    assert [ok.kind, wrong.kind, missing.kind] == [ResultKind.OK, *[ResultKind.REJECTED] * 2]


def test_verification_burns_the_token_and_emits(conn: sa.Connection, make_ctx: MakeCtx) -> None:
    uid = insert_user(conn)
    ctx = make_ctx(WF, uid, "verify_email")
    assert reg.mark_email_verified(ctx).is_ok
    row = user(conn, uid)
    assert row.email_token is None
    assert row.email_verified_at is not None
    assert [name for name, _ in ctx.events] == ["user.email_verified"]


def test_resend_mails_a_token_that_then_verifies(conn: sa.Connection, make_ctx: MakeCtx) -> None:
    uid = insert_user(conn, email_token="old")
    assert reg.send_verification_email(make_ctx(WF, uid, "resend_verification_email")).is_ok
    token = user(conn, uid).email_token
    assert token not in {None, "old"}
    mail = conn.execute(sa.select(notifications).where(notifications.c.entity_id == uid)).one()
    assert mail.payload == {"token": token}
    ctx = make_ctx(WF, uid, "verify_email", data={"token": token})
    assert reg.check_email_token(ctx).is_ok


def test_new_email_must_be_an_address_and_new(conn: sa.Connection, make_ctx: MakeCtx) -> None:
    uid = insert_user(conn, email="a@example.org")
    results = {
        email: reg.validate_new_email(make_ctx(WF, uid, "change_email", data={"email": email}))
        for email in ("nope", "A@example.org", "b@example.org")
    }
    assert {e: r.kind for e, r in results.items()} == {
        "nope": ResultKind.REJECTED,
        "A@example.org": ResultKind.REJECTED,
        "b@example.org": ResultKind.OK,
    }


def test_missing_documents_are_rejected(conn: sa.Connection, make_ctx: MakeCtx) -> None:
    uid = insert_user(conn, status="pending_documents")
    for data, reason in [
        ({}, "no documents attached"),
        ({"documents": []}, "no documents attached"),
        ({"documents": DOCS[:1]}, "missing required documents: supply_contract"),
    ]:
        result = reg.validate_documents(make_ctx(WF, uid, "upload_documents", data=data))
        assert (result.kind, result.reason) == (ResultKind.REJECTED, reason)
    bad = [{**DOCS[0], "sha256": "xyz"}]
    result = reg.validate_documents(make_ctx(WF, uid, "upload_documents", data={"documents": bad}))
    assert result.kind is ResultKind.REJECTED


def test_admins_need_no_full_set(conn: sa.Connection, make_ctx: MakeCtx) -> None:
    uid = insert_user(conn, status="pending_documents")
    data = {"documents": DOCS[:1]}
    ctx = make_ctx(WF, uid, "upload_documents", requester="admin", data=data)
    assert ctx.step.validation == "validate_documents_admin"
    assert ctx.step.successful_state == "pending_admin_approval"
    assert reg.validate_documents_admin(ctx).is_ok
    assert not reg.validate_documents(ctx).is_ok


def test_valid_documents_are_stored(conn: sa.Connection, make_ctx: MakeCtx) -> None:
    uid = insert_user(conn, status="pending_documents")
    ctx = make_ctx(WF, uid, "upload_documents", data={"documents": DOCS})
    assert reg.validate_documents(ctx).is_ok
    result = reg.store_documents(ctx)
    assert result.metadata == {"stored": 2}
    rows = conn.execute(
        sa.select(user_documents.c.kind, user_documents.c.uploaded_by)
        .where(user_documents.c.user_id == uid)
        .order_by(user_documents.c.kind)
    ).all()
    assert [tuple(r) for r in rows] == [("id_card", "user"), ("supply_contract", "user")]


def test_hub_registration_paths(conn: sa.Connection, make_ctx: MakeCtx) -> None:
    uid = insert_user(conn, status="pending_admin_approval", version=4, tenant_id="t1")
    refused = make_ctx(WF, uid, "approve", requester="admin", data={"hub_error": "refused"})
    down = make_ctx(WF, uid, "approve", requester="admin", data={"hub_error": "unavailable"})
    fine = make_ctx(WF, uid, "approve", requester="admin")
    r1, r2 = register_user_at_hub(refused), register_user_at_hub(down)
    assert (r1.kind, r1.code, r1.permanent) == (ResultKind.FAILED, "hub_refused", True)
    assert (r2.kind, r2.code, r2.permanent) == (ResultKind.FAILED, "hub_unavailable", False)
    assert conn.execute(sa.select(sa.func.count()).select_from(hub_requests)).scalar_one() == 0
    assert register_user_at_hub(fine).metadata == {"hub_request_id": f"register_user:{uid}@4"}
    row = conn.execute(sa.select(hub_requests)).one()
    assert (row.kind, row.entity_table, row.tenant_id) == ("register_user", "users", "t1")


def test_identity_janitor_forwards_only_this_claims_request(
    conn: sa.Connection, make_ctx: MakeCtx
) -> None:
    uid = insert_user(conn, status="pending_admin_approval", version=3)
    register_user_at_hub(make_ctx(WF, uid, "approve", requester="admin"))  # an old attempt @3
    conn.execute(
        sa.update(users).where(users.c.id == uid).values(status="registering_at_hub", version=6)
    )
    janitor_ctx = make_ctx(WF, uid, "approve", requester="system")
    released = reg.identity_janitor(janitor_ctx)
    assert (released.kind, dict(released.metadata)) == (
        ResultKind.REJECTED,
        {"code": "claim_released", "decision": "release"},
    )
    # the action of this claim saw the claimed row (version 6): the hub has it
    register_user_at_hub(make_ctx(WF, uid, "approve", requester="admin"))
    forwarded = reg.identity_janitor(make_ctx(WF, uid, "approve", requester="system"))
    assert forwarded.is_ok
    assert forwarded.metadata["evidence"] == f"register_user:{uid}@6"


def test_identity_janitor_refuses_a_non_claim_status(
    conn: sa.Connection, make_ctx: MakeCtx
) -> None:
    uid = insert_user(conn, status="active")
    result = reg.identity_janitor(make_ctx(WF, uid, "suspend", requester="system"))
    assert (result.kind, result.code) == (ResultKind.FAILED, "not_a_claim")


def test_admin_closure_notes_and_deregisters(conn: sa.Connection, make_ctx: MakeCtx) -> None:
    uid = insert_user(conn, status="active")
    ctx = make_ctx(WF, uid, "close_account", requester="admin", data={"reason": "moved away"})
    assert ctx.step.action == "close_account_by_admin"
    assert ctx.step.claim is not None
    assert ctx.step.claim.stale_after == "PT1H"
    assert reg.close_account_by_admin(ctx).is_ok
    note = conn.execute(sa.select(registration_notes)).one()
    assert (note.kind, note.body, note.author_type) == ("closure", "moved away", "admin")
    assert conn.execute(sa.select(hub_requests.c.kind)).scalar_one() == "deregister_user"


def test_reasons_and_questions_are_required(conn: sa.Connection, make_ctx: MakeCtx) -> None:
    uid = insert_user(conn, status="pending_admin_approval")
    no_reason = reg.require_reason(make_ctx(WF, uid, "reject", requester="admin"))
    blank = reg.check_info_request(
        make_ctx(WF, uid, "request_more_info", requester="admin", data={"question": "  "})
    )
    assert [no_reason.kind, blank.kind] == [ResultKind.REJECTED, ResultKind.REJECTED]
    ctx = make_ctx(WF, uid, "request_more_info", requester="admin", data={"question": "EAN?"})
    assert reg.check_info_request(ctx).is_ok
    assert reg.record_info_request(ctx).is_ok
    assert conn.execute(sa.select(registration_notes.c.body)).scalar_one() == "EAN?"


def test_profile_changes_are_limited(conn: sa.Connection, make_ctx: MakeCtx) -> None:
    uid = insert_user(conn, status="active")

    def check(data: Mapping[str, object]) -> ResultKind:
        return reg.validate_profile(make_ctx(WF, uid, "update_profile", data=data)).kind

    assert check({"email": "x@example.org"}) is ResultKind.REJECTED
    assert check({"supply_point": "123"}) is ResultKind.REJECTED
    good = {"full_name": "Petr Svoboda", "supply_point": "859182400100000099"}
    assert check(good) is ResultKind.OK
    reg.update_profile(make_ctx(WF, uid, "update_profile", data=good))
    row = user(conn, uid)
    assert (row.full_name, row.supply_point) == (good["full_name"], good["supply_point"])


def test_generic_notify_names_its_template_after_the_step(
    conn: sa.Connection, make_ctx: MakeCtx
) -> None:
    uid = insert_user(conn, email="m@example.org")
    result = notify(make_ctx(WF, uid, "expire_unverified", requester="system"))
    assert result.metadata == {"template": "user_registration.expire_unverified"}
    mail = conn.execute(sa.select(notifications)).one()
    assert (mail.template, mail.recipient) == (
        "user_registration.expire_unverified",
        "m@example.org",
    )

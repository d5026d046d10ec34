"""The request context: contextvars inside a process, explicit envelopes across boundaries."""

from __future__ import annotations

import threading

import pytest

from wfnb.engine import context
from wfnb.engine.context import RequestContext
from wfnb.exceptions import ContextMissingError


def test_use_sets_and_restores_the_current_context() -> None:
    assert context.current() is None
    outer = RequestContext("c-1", tenant_id="acme", user_id="u", requester_type="user")
    with context.use(outer):
        assert context.current() is outer
        with context.use(RequestContext("c-2")):
            assert context.current() == RequestContext("c-2")
        assert context.current() is outer
    assert context.current() is None


def test_envelope_round_trips() -> None:
    ctx = RequestContext("c-1", tenant_id="acme", user_id="u", requester_type="admin")
    envelope = ctx.to_envelope()
    assert envelope["v"] == context.ENVELOPE_VERSION
    assert RequestContext.from_envelope(envelope) == ctx
    assert context.from_envelope(context.to_envelope(ctx)) == ctx


@pytest.mark.parametrize("envelope", [None, {}, {"tenant_id": "acme"}])
def test_a_missing_envelope_is_wf209(envelope: dict[str, str] | None) -> None:
    with pytest.raises(ContextMissingError) as info:
        RequestContext.from_envelope(envelope, boundary="job")
    assert info.value.code == "WF209"
    assert "job" in str(info.value)


def test_require_and_to_envelope_without_context_are_wf209() -> None:
    with pytest.raises(ContextMissingError):
        context.require("a boundary")
    with pytest.raises(ContextMissingError):
        context.to_envelope()


def test_resolve_prefers_arguments_then_the_current_context_then_generates() -> None:
    fresh = context.resolve(requester_type="user")
    assert len(fresh.correlation_id) == 32
    assert fresh.tenant_id is None
    with context.use(RequestContext("c-out", tenant_id="t1", user_id="u1")):
        inherited = context.resolve(requester_type="admin")
        assert (inherited.correlation_id, inherited.tenant_id, inherited.user_id) == (
            "c-out",
            "t1",
            "u1",
        )
        explicit = context.resolve(correlation_id="c-in", tenant_id="t2", requester_type="admin")
        assert (explicit.correlation_id, explicit.tenant_id) == ("c-in", "t2")


def test_threads_do_not_share_the_context() -> None:
    seen: list[RequestContext | None] = []
    with context.use(RequestContext("c-main")):
        worker = threading.Thread(target=lambda: seen.append(context.current()))
        worker.start()
        worker.join()
    assert seen == [None]

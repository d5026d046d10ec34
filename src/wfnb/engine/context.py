"""The request context (correlation id, tenant, user, requester type) and its envelope.

Inside a process the context travels in a ``contextvars.ContextVar``; across a boundary
(a domain event, a timer job) it travels as an explicit envelope, a plain dict. A
boundary that receives work without an envelope raises ``ContextMissingError`` (WF209)
instead of inventing a context. See docs/adr/0012-context-envelope-and-rls.md.

A context opened by ``wfnb.cron(name)`` (``wfnb.engine.cron``) names its cron job in
``RequestContext.cron``; contexts made inside it inherit the name (ADR 0103).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from contextlib import AbstractContextManager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from wfnb.exceptions import ContextMissingError

__all__ = [
    "ENVELOPE_VERSION",
    "RequestContext",
    "current",
    "from_envelope",
    "new_correlation_id",
    "require",
    "resolve",
    "to_envelope",
    "use",
]

ENVELOPE_VERSION = 1
_CURRENT: ContextVar[RequestContext | None] = ContextVar("wfnb_request_context", default=None)


def new_correlation_id() -> str:
    """A fresh correlation id: 128 random bits as 32 hex digits (as long as a uuid4's hex).

    ``secrets.token_hex`` rather than ``uuid.uuid4().hex``: the same source of randomness,
    without building a ``UUID`` object on every engine call.
    """
    return secrets.token_hex(16)


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Who asked, on whose behalf, and which request this work belongs to."""

    correlation_id: str
    tenant_id: str | None = None
    user_id: str | None = None
    requester_type: str | None = None
    cron: str | None = None
    """The cron job this work runs for (``wfnb.cron(name)``); None outside one."""

    def to_envelope(self) -> dict[str, Any]:
        """The context as a JSON-friendly dict that crosses process boundaries."""
        # Spelled out: ``dataclasses.asdict`` deep-copies recursively, a cost every step paid.
        envelope = {
            "v": ENVELOPE_VERSION,
            "correlation_id": self.correlation_id,
            "tenant_id": self.tenant_id,
            "user_id": self.user_id,
            "requester_type": self.requester_type,
        }
        if self.cron is not None:  # optional key: envelopes outside a cron stay as they were
            envelope["cron"] = self.cron
        return envelope

    @classmethod
    def from_envelope(
        cls, envelope: Mapping[str, Any] | None, *, boundary: str = ""
    ) -> RequestContext:
        """Rebuild a context from its envelope.

        Raises:
            ContextMissingError: no envelope, or one without a correlation id (WF209).
        """
        if not envelope or not envelope.get("correlation_id"):
            where = f" at {boundary}" if boundary else ""
            raise ContextMissingError(
                f"no request-context envelope{where}: work crossing a boundary must carry one",
                boundary=boundary or None,
            )
        return cls(
            correlation_id=str(envelope["correlation_id"]),
            tenant_id=envelope.get("tenant_id"),
            user_id=envelope.get("user_id"),
            requester_type=envelope.get("requester_type"),
        )  # an envelope's "cron" is for the record: only ``wfnb.cron`` opens a cron context


def current() -> RequestContext | None:
    """The context of the running request, or None outside one."""
    return _CURRENT.get()


def require(boundary: str) -> RequestContext:
    """The running context; ``ContextMissingError`` (WF209) when there is none."""
    ctx = _CURRENT.get()
    if ctx is None:
        raise ContextMissingError(f"no request context at {boundary}", boundary=boundary)
    return ctx


def use(
    ctx: RequestContext | None = None,
    *,
    correlation_id: str | None = None,
    tenant_id: str | None = None,
    user_id: str | None = None,
    requester_type: str | None = None,
) -> AbstractContextManager[RequestContext]:
    """Make ``ctx`` the current context for the ``with`` block (restored afterwards).

    Without ``ctx``, the keywords make one as ``resolve`` does: an incoming request's
    correlation id is adopted with ``use(correlation_id=...)`` (ADR 0101).
    """
    if ctx is None:
        ctx = resolve(
            correlation_id=correlation_id,
            tenant_id=tenant_id,
            user_id=user_id,
            requester_type=requester_type,
        )
    elif correlation_id or tenant_id or user_id or requester_type:
        raise TypeError("use(): pass a RequestContext or keywords, not both")
    return _Using(ctx)


class _Using(AbstractContextManager[RequestContext]):
    """``use``'s context manager: a class, as every engine call enters one."""

    __slots__ = ("_ctx", "_token")

    def __init__(self, ctx: RequestContext) -> None:
        self._ctx = ctx

    def __enter__(self) -> RequestContext:
        self._token = _CURRENT.set(self._ctx)
        return self._ctx

    def __exit__(self, *_exc: object) -> None:
        _CURRENT.reset(self._token)


def to_envelope(ctx: RequestContext | None = None) -> dict[str, Any]:
    """The envelope of ``ctx`` or of the current context (WF209 when there is none)."""
    return (ctx or require("to_envelope")).to_envelope()


def from_envelope(envelope: Mapping[str, Any] | None, *, boundary: str = "") -> RequestContext:
    """``RequestContext.from_envelope``, as a function."""
    return RequestContext.from_envelope(envelope, boundary=boundary)


def resolve(
    *,
    correlation_id: str | None = None,
    tenant_id: str | None = None,
    user_id: str | None = None,
    requester_type: str | None = None,
) -> RequestContext:
    """The context of a new engine call: explicit arguments win, then the current context.

    A correlation id is generated (``new_correlation_id``) when neither gives one. The
    cron name is always the current context's (only ``wfnb.cron`` opens one).
    """
    outer = _CURRENT.get()
    return RequestContext(
        correlation_id=correlation_id
        or (outer.correlation_id if outer else None)
        or new_correlation_id(),
        tenant_id=tenant_id if tenant_id is not None else (outer.tenant_id if outer else None),
        user_id=user_id if user_id is not None else (outer.user_id if outer else None),
        requester_type=requester_type or (outer.requester_type if outer else None),
        cron=outer.cron if outer else None,
    )

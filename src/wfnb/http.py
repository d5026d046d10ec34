"""Outbound HTTP that carries the request context: httpx clients stamping every request.

``http_client()`` and ``async_http_client()`` return ordinary ``httpx`` clients with one
more request event hook: each request leaving inside a wfnb context (``wfnb.use``, an
engine call, a timer job, a use case) gets ``X-Correlation-Id: <correlation id>`` and a
W3C ``traceparent`` (``00-<trace id>-<span id>-01``) whose trace id holds the correlation
id (wfnb's own ids are 32 hex digits, a valid trace id as they are) and whose span id is
fresh for every request. A header the caller set explicitly is left alone; outside a
context nothing is stamped (an id is never invented here). The other way round,
``incoming_correlation_id(headers)`` reads the id an incoming request carries, to adopt
with ``wfnb.use(correlation_id=...)``. See docs/adr/0101-outbound-correlation.md.

httpx is the optional ``http`` extra, imported when a client is made.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from wfnb.engine.context import RequestContext, current
from wfnb.exceptions import WfnbUsageError

if TYPE_CHECKING:
    import httpx

__all__ = [
    "CORRELATION_HEADER",
    "TRACEPARENT_HEADER",
    "async_http_client",
    "context_headers",
    "http_client",
    "incoming_correlation_id",
    "trace_id_for",
    "traceparent",
]

CORRELATION_HEADER = "X-Correlation-Id"
TRACEPARENT_HEADER = "traceparent"

_HEX32 = re.compile(r"[0-9a-f]{32}")
_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")
_ZERO_TRACE = "0" * 32
_HINT = "wfnb.http_client needs httpx: pip install 'wfnb[http]'"


def trace_id_for(correlation_id: str) -> str:
    """The W3C trace id (32 lowercase hex digits, not all zero) of a correlation id.

    The id itself when it is one already (wfnb's generated ids, a uuid's hex, or a uuid
    with its dashes), else the first 128 bits of its SHA-256: the same id always gives the
    same trace id, so every service that sees one correlation id joins the same trace.
    """
    compact = correlation_id.strip().lower().replace("-", "")
    if _HEX32.fullmatch(compact) and compact != _ZERO_TRACE:
        return compact
    return hashlib.sha256(correlation_id.encode()).hexdigest()[:32]


def traceparent(correlation_id: str) -> str:
    """A ``traceparent`` value: version 00, the id's trace id, a fresh span id, sampled."""
    span = secrets.token_hex(8)
    while span == "0" * 16:  # all-zero is invalid (a 2**-64 chance)
        span = secrets.token_hex(8)
    return f"00-{trace_id_for(correlation_id)}-{span}-01"


def context_headers(ctx: RequestContext | None = None) -> dict[str, str]:
    """The headers a request made in ``ctx`` (default: the current context) carries.

    Empty outside a context.
    """
    ctx = ctx or current()
    if ctx is None:
        return {}
    return {
        CORRELATION_HEADER: ctx.correlation_id,
        TRACEPARENT_HEADER: traceparent(ctx.correlation_id),
    }


def incoming_correlation_id(headers: Mapping[str, str]) -> str | None:
    """The correlation id an incoming request carries, or None.

    ``X-Correlation-Id`` when present, else the trace id of a valid ``traceparent``
    (whose outbound ``traceparent`` then continues the same trace). Header names are
    matched case-insensitively, as HTTP wants.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    given = (lowered.get(CORRELATION_HEADER.lower()) or "").strip()
    if given:
        return given
    match = _TRACEPARENT.fullmatch((lowered.get(TRACEPARENT_HEADER) or "").strip().lower())
    if match is None or match[1] == "ff" or match[2] == _ZERO_TRACE:
        return None
    return match[2]


def _stamp(request: httpx.Request) -> None:
    """The request hook: the current context's headers, unless the caller set them."""
    for name, value in context_headers().items():
        if name not in request.headers:
            request.headers[name] = value


async def _astamp(request: httpx.Request) -> None:
    _stamp(request)  # the hook runs in the request's task: its context is current


def _hooks(kwargs: dict[str, Any], hook: Any) -> dict[str, list[Any]]:
    """The caller's ``event_hooks`` with ``hook`` first among the request hooks."""
    given: Mapping[str, list[Any]] = kwargs.pop("event_hooks", None) or {}
    hooks = {name: list(fns) for name, fns in given.items()}
    hooks["request"] = [hook, *hooks.get("request", [])]
    return hooks


def _httpx() -> Any:
    try:
        import httpx  # noqa: PLC0415  # optional: the http extra
    except ImportError as exc:
        raise WfnbUsageError(_HINT) from exc
    return httpx


def http_client(**kwargs: Any) -> httpx.Client:
    """An ``httpx.Client`` stamping the correlation id on every request it sends.

    Args:
        **kwargs: Passed to ``httpx.Client`` (``base_url``, ``timeout``, ``transport``...);
            ``event_hooks`` are kept, the stamping hook runs before them.

    Raises:
        WfnbUsageError: httpx is not installed (WF400, with the install hint).
    """
    lib = _httpx()
    client: httpx.Client = lib.Client(event_hooks=_hooks(kwargs, _stamp), **kwargs)
    return client


def async_http_client(**kwargs: Any) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` stamping the correlation id on every request it sends.

    Args:
        **kwargs: Passed to ``httpx.AsyncClient``; ``event_hooks`` are kept, the stamping
            hook runs before them.

    Raises:
        WfnbUsageError: httpx is not installed (WF400, with the install hint).
    """
    lib = _httpx()
    client: httpx.AsyncClient = lib.AsyncClient(event_hooks=_hooks(kwargs, _astamp), **kwargs)
    return client

"""Outbound HTTP carries the correlation id (issue 16.6), against a real server on 127.0.0.1.

The server is ``http.server`` in a thread; it records the headers of every request it
receives, so each test checks what actually went over the wire.
"""

from __future__ import annotations

import asyncio
import re
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import wfnb
from tests.engines import engine_builder
from wfnb.engine.usecases import Result, StepContext
from wfnb.http import incoming_correlation_id, trace_id_for

TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-01")
CID = "4bf92f3577b34da6a3ce929d0e0e4736"  # a wfnb-style id: 32 hex digits


class Recorder(ThreadingHTTPServer):
    """A local HTTP server; ``seen`` holds each request's headers (lower-cased names)."""

    def __init__(self) -> None:
        self.seen: list[dict[str, str]] = []
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class _Handler(BaseHTTPRequestHandler):
    server: Recorder

    def do_GET(self) -> None:
        self.server.seen.append({k.lower(): v for k, v in self.headers.items()})
        body = b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:  # keep the test output quiet
        pass


@pytest.fixture
def server() -> Iterator[Recorder]:
    srv = Recorder()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(5)


def _span_and_trace(headers: dict[str, str]) -> tuple[str, str]:
    match = TRACEPARENT.fullmatch(headers["traceparent"])
    assert match is not None, headers["traceparent"]
    return match[1], match[2]


def test_every_sync_request_carries_the_id_and_a_fresh_span(server: Recorder) -> None:
    with wfnb.http_client(base_url=server.url) as client, wfnb.use(correlation_id=CID):
        client.get("/a").raise_for_status()
        client.get("/b").raise_for_status()
    first, second = server.seen
    assert first["x-correlation-id"] == second["x-correlation-id"] == CID
    (t1, s1), (t2, s2) = _span_and_trace(first), _span_and_trace(second)
    assert t1 == t2 == CID  # the trace id holds the correlation id
    assert s1 != s2


def test_a_non_hex_id_gets_a_stable_derived_trace_id(server: Recorder) -> None:
    with wfnb.http_client() as client:
        for _ in range(2):
            with wfnb.use(correlation_id="order-42"):
                client.get(server.url)
    trace_ids = {_span_and_trace(h)[0] for h in server.seen}
    assert trace_ids == {trace_id_for("order-42")}
    assert {h["x-correlation-id"] for h in server.seen} == {"order-42"}
    assert trace_id_for("order-42") != trace_id_for("order-43")


def test_outside_a_context_nothing_is_stamped(server: Recorder) -> None:
    with wfnb.http_client() as client:
        client.get(server.url)
    (headers,) = server.seen
    assert "x-correlation-id" not in headers
    assert "traceparent" not in headers


def test_a_header_set_by_the_caller_wins_and_its_hooks_still_run(server: Recorder) -> None:
    called: list[str] = []
    hooks = {"request": [lambda request: called.append(request.url.path)]}
    with wfnb.http_client(event_hooks=hooks) as client, wfnb.use(correlation_id=CID):
        client.get(f"{server.url}/x", headers={"X-Correlation-Id": "mine"})
    (headers,) = server.seen
    assert headers["x-correlation-id"] == "mine"
    assert _span_and_trace(headers)[0] == CID
    assert called == ["/x"]


def test_async_requests_carry_the_id_of_their_own_task(server: Recorder) -> None:
    async def call(client: object, cid: str) -> None:
        with wfnb.use(correlation_id=cid):
            await asyncio.sleep(0)  # let the other task interleave
            (await client.get(f"{server.url}/{cid}")).raise_for_status()  # type: ignore[attr-defined]

    async def main() -> None:
        async with wfnb.async_http_client() as client:
            await asyncio.gather(call(client, "c-one"), call(client, "c-two"))

    asyncio.run(main())
    assert sorted(h["x-correlation-id"] for h in server.seen) == ["c-one", "c-two"]
    assert {_span_and_trace(h)[0] for h in server.seen} == {
        trace_id_for("c-one"),
        trace_id_for("c-two"),
    }


def test_an_incoming_id_is_adopted_and_continues_the_trace(server: Recorder) -> None:
    upstream = f"00-{CID}-00f067aa0ba902b7-01"
    adopted = incoming_correlation_id({"Traceparent": upstream})
    assert adopted == CID
    assert incoming_correlation_id({"x-correlation-id": "abc"}) == "abc"
    assert incoming_correlation_id({"traceparent": "garbage"}) is None
    with wfnb.use(correlation_id=adopted), wfnb.http_client() as client:
        client.get(server.url)
    (headers,) = server.seen
    trace, span = _span_and_trace(headers)
    assert (trace, headers["x-correlation-id"]) == (CID, CID)
    assert span != "00f067aa0ba902b7"  # a new span of the same trace


def test_a_use_case_calling_out_sends_the_steps_id(server: Recorder, tmp_path: Path) -> None:
    """Inside ``execute_step`` the engine's context is current: the action's call carries it."""
    url = f"sqlite+pysqlite:///{tmp_path / 'h.db'}"
    with engine_builder(url, id_format="e{}") as build:
        engine, wf = build(entities=1)

        def act(ctx: StepContext) -> Result:
            with wfnb.http_client() as client:
                client.get(f"{server.url}/hub")
            return Result.ok()

        engine.use_cases.override(wf, "act", act)
        result = engine.execute_step("ticket", "e0", "admin", correlation_id="c-step-out")
    assert result.ok
    (headers,) = server.seen
    assert headers["x-correlation-id"] == "c-step-out"


def test_without_httpx_the_error_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "httpx", None)  # import httpx now raises ImportError
    for make in (wfnb.http_client, wfnb.async_http_client):
        with pytest.raises(wfnb.WfnbUsageError, match=r"pip install 'wfnb\[http\]'") as info:
            make()
        assert info.value.code == "WF400"


def test_use_with_keywords_fills_the_rest_from_the_outer_context() -> None:
    with wfnb.use(correlation_id="outer", tenant_id="t1", user_id="u1"):
        with wfnb.use(correlation_id="inner") as ctx:
            assert (ctx.correlation_id, ctx.tenant_id, ctx.user_id) == ("inner", "t1", "u1")
        with wfnb.use() as fresh_or_outer:
            assert fresh_or_outer.correlation_id == "outer"
    with wfnb.use() as fresh:
        assert re.fullmatch(r"[0-9a-f]{32}", fresh.correlation_id)


def test_use_refuses_a_context_and_keywords_together() -> None:
    from wfnb.engine.context import RequestContext

    with pytest.raises(TypeError, match="not both"):
        wfnb.use(RequestContext("c1"), correlation_id="c2")

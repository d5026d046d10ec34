"""Domain events: the event-bus port, the in-process bus, and the ``transition`` event.

Events are published after the step's transaction commits, each carrying the request
context's envelope; a subscriber runs inside that context. The in-process bus delivers on
its own thread, in publication order, so a slow subscriber never slows the step that
published (``flush()`` waits for what was published so far). A subscriber that raises is
logged and never stops the others, nor fails the step. Every committed transition is
published as a ``transition`` event (``transition_event``), keyed by its history row's id;
the durable copy goes through the outbox (``wfnb.engine.outbox``, ADR 0102).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from wfnb.engine.context import ENVELOPE_VERSION, RequestContext, use
from wfnb.engine.usecases import Event

__all__ = ["TRANSITION", "EventBus", "InProcessEventBus", "Subscriber", "transition_event"]

log = logging.getLogger("wfnb.events")

Subscriber = Callable[[Event], object]
ANY = "*"
TRANSITION = "transition"
"""The name of the event every committed transition publishes."""

_PAYLOAD = (
    "kind",
    "step_key",
    "from_status",
    "to_status",
    "entity_table",
    "source",
    "metadata",
    "config_hash",
    "config_rev",
    "entity_version",
)
"""The history columns a ``transition`` event's payload carries (plus ``history_id``,
``changed_at``)."""


@runtime_checkable
class EventBus(Protocol):
    """Where the engine publishes domain events after commit."""

    def publish(self, event: Event) -> None:
        """Deliver ``event`` (its ``envelope`` must carry the request context)."""
        ...


class InProcessEventBus:
    """Calls subscribers on one background thread, in publication order, in the event's context."""

    def __init__(self) -> None:
        self._subscribers: dict[str, list[Subscriber]] = {}
        self._lock = threading.Condition()
        self._pending: deque[tuple[Event, RequestContext, list[Subscriber]]] = deque()
        self._busy = 0
        self._thread: threading.Thread | None = None

    def subscribe(self, name: str, fn: Subscriber) -> Callable[[], None]:
        """Call ``fn(event)`` for events named ``name`` (``"*"``: every event).

        Returns:
            A function that removes the subscription.
        """
        with self._lock:
            self._subscribers.setdefault(name, []).append(fn)

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers.get(name, []).remove(fn)

        return unsubscribe

    def publish(self, event: Event) -> None:
        """Queue ``event`` for its subscribers (as subscribed now); returns at once.

        Raises:
            ContextMissingError: the event carries no envelope (WF209).
        """
        ctx = RequestContext.from_envelope(event.envelope, boundary=f"event {event.name!r}")
        with self._lock:
            targets = [*self._subscribers.get(event.name, ()), *self._subscribers.get(ANY, ())]
            if not targets:
                return
            self._pending.append((event, ctx, targets))
            if self._thread is None or not self._thread.is_alive():  # first use, or a fork
                self._thread = threading.Thread(target=self._run, name="wfnb-events", daemon=True)
                self._thread.start()
            self._lock.notify_all()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every event published so far reached its subscribers.

        Returns:
            Whether it did within ``timeout`` seconds (False from inside a subscriber).
        """
        if threading.current_thread() is self._thread:
            return False
        with self._lock:
            return self._lock.wait_for(lambda: not self._pending and not self._busy, timeout)

    def _run(self) -> None:
        while True:
            with self._lock:
                self._lock.wait_for(lambda: bool(self._pending))
                event, ctx, targets = self._pending.popleft()
                self._busy += 1
            try:
                _deliver(event, ctx, targets)
            finally:
                with self._lock:
                    self._busy -= 1
                    self._lock.notify_all()

    def __repr__(self) -> str:
        return f"InProcessEventBus({sorted(self._subscribers)})"


def _deliver(event: Event, ctx: RequestContext, targets: list[Subscriber]) -> None:
    with use(ctx):
        for fn in targets:
            try:
                fn(event)
            except Exception:  # a subscriber's bug must not reach the step
                log.exception(
                    "event subscriber failed",
                    extra={"wfnb": {"event": event.name, "subscriber": repr(fn)}},
                )


def transition_event(row: Mapping[str, Any]) -> Event:
    """The ``transition`` event of one ``workflow_history`` row (as written, or as JSON).

    Its key is the row's id; its envelope the row's correlation id, tenant, user and
    requester type; its payload the row's ``history_id``, ``kind``, ``step_key``,
    ``from_status``, ``to_status``, ``entity_table``, ``source``, ``metadata``,
    ``config_hash``, ``config_rev``, ``entity_version`` and ``changed_at`` (ISO 8601, UTC).
    """
    payload: dict[str, Any] = {"history_id": int(row["id"])}
    payload.update({name: row.get(name) for name in _PAYLOAD})
    payload["changed_at"] = _iso(row.get("changed_at"))
    envelope = {
        "v": ENVELOPE_VERSION,
        "correlation_id": row.get("correlation_id"),
        "tenant_id": row.get("tenant_id"),
        "user_id": row.get("user_id"),
        "requester_type": row.get("requester_type"),
    }
    return Event(
        TRANSITION,
        payload,
        str(row["workflow"]),
        str(row["entity_id"]),
        envelope,
        key=str(payload["history_id"]),
    )


def _iso(value: object) -> str | None:
    """A stamp as ISO 8601 in UTC (SQLite's JSON gives naive UTC text, PostgreSQL's an offset)."""
    if value is None:
        return None
    stamp = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    stamp = stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)
    return stamp.isoformat()

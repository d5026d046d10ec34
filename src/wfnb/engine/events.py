"""Domain events: the event-bus port and an in-process bus with ``subscribe(name | "*", fn)``.

Events are published after the step's transaction commits, each carrying the request
context's envelope; a subscriber runs inside that context. A subscriber that raises is
logged and never stops the others, nor fails the step that emitted the event.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from wfnb.engine.context import RequestContext, use
from wfnb.engine.usecases import Event

__all__ = ["EventBus", "InProcessEventBus", "Subscriber"]

log = logging.getLogger("wfnb.events")

Subscriber = Callable[[Event], object]
ANY = "*"


@runtime_checkable
class EventBus(Protocol):
    """Where the engine publishes domain events after commit."""

    def publish(self, event: Event) -> None:
        """Deliver ``event`` (its ``envelope`` must carry the request context)."""
        ...


class InProcessEventBus:
    """Calls subscribers synchronously, in subscription order, in the event's context."""

    def __init__(self) -> None:
        self._subscribers: dict[str, list[Subscriber]] = {}
        self._lock = threading.Lock()

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
        """Deliver ``event`` to its subscribers.

        Raises:
            ContextMissingError: the event carries no envelope (WF209).
        """
        ctx = RequestContext.from_envelope(event.envelope, boundary=f"event {event.name!r}")
        with self._lock:
            targets = [*self._subscribers.get(event.name, ()), *self._subscribers.get(ANY, ())]
        with use(ctx):
            for fn in targets:
                try:
                    fn(event)
                except Exception:  # a subscriber's bug must not reach the step
                    log.exception(
                        "event subscriber failed",
                        extra={"wfnb": {"event": event.name, "subscriber": repr(fn)}},
                    )

    def __repr__(self) -> str:
        return f"InProcessEventBus({sorted(self._subscribers)})"

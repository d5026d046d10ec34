"""Durable delivery of ``transition`` events from ``workflow_outbox`` (ADR 0102).

``deliver_outbox`` reads undelivered rows in history-id order and calls every durable
subscriber of the event (registered in ``DurableSubscribers`` by event name, ``"*"`` for
all) inside the event's request context; a row is marked delivered only after all of them
returned, one row per transaction. So delivery is at least once (a process killed between
a subscriber's return and the mark delivers that row again), each event carries its
history id as ``event.key`` for the subscriber to deduplicate on, and per entity the order
is commit order: a row that fails (a subscriber raised) keeps the entity's later rows
back until a later pass delivers it. On PostgreSQL one pass runs at a time per schema
(a session advisory lock); a pass that finds another under way delivers nothing.

Who runs it: the worker, as a procrastinate periodic job (``wfnb worker --subscriber``);
on SQLite, which procrastinate cannot serve, ``Engine.deliver_outbox()`` or
``wfnb outbox drain``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from wfnb.engine.context import RequestContext, use
from wfnb.engine.events import ANY, Subscriber, transition_event
from wfnb.engine.usecases import Event
from wfnb.store import Store, outbox
from wfnb.store.errors import wrap_errors

__all__ = ["DurableSubscribers", "OutboxReport", "deliver_outbox"]

log = logging.getLogger("wfnb.outbox")
PAGE = 200
"""Outbox rows read per query."""


class DurableSubscribers:
    """Durable subscribers by event name: what ``deliver_outbox`` calls."""

    def __init__(self) -> None:
        self._by_name: dict[str, list[Subscriber]] = {}
        self._lock = threading.Lock()

    def subscribe(self, name: str, fn: Subscriber) -> Callable[[], None]:
        """Call ``fn(event)`` for outbox events named ``name`` (``"*"``: every one).

        Returns:
            A function that removes the subscription.
        """
        with self._lock:
            self._by_name.setdefault(name, []).append(fn)

        def unsubscribe() -> None:
            with self._lock:
                self._by_name.get(name, []).remove(fn)

        return unsubscribe

    def targets(self, name: str) -> list[Subscriber]:
        """The subscribers of events named ``name``, in subscription order."""
        with self._lock:
            return [*self._by_name.get(name, ()), *self._by_name.get(ANY, ())]

    def __bool__(self) -> bool:
        with self._lock:
            return any(self._by_name.values())

    def __repr__(self) -> str:
        return f"DurableSubscribers({sorted(k for k, v in self._by_name.items() if v)})"


@dataclass(frozen=True, slots=True)
class OutboxReport:
    """What one delivery pass did; ``pending`` is counted in SQL after it."""

    delivered: int
    failed: int
    pending: int
    ran: bool = True
    """False when no subscriber is registered or another pass held the lock."""

    def __repr__(self) -> str:
        state = "" if self.ran else " (did not run)"
        return (
            f"<OutboxReport {self.delivered} delivered, {self.failed} failed, "
            f"{self.pending} pending{state}>"
        )


def deliver_outbox(
    store: Store,
    subscribers: DurableSubscribers,
    *,
    limit: int = 1000,
    now: Callable[[], datetime] | None = None,
) -> OutboxReport:
    """One delivery pass over at most ``limit`` undelivered rows; never raises for a subscriber.

    With no subscriber registered nothing is delivered (rows wait for one).

    Raises:
        StoreError: the database failed (WF300).
    """
    clock = now or (lambda: datetime.now(UTC))
    if not subscribers:
        return OutboxReport(0, 0, _pending(store), ran=False)
    with wrap_errors("outbox lock"), store.engine.connect() as lock_conn:
        if not outbox.try_lock_delivery(lock_conn):
            return OutboxReport(0, 0, _pending(store), ran=False)
        try:
            delivered, failed = _pass(store, subscribers, limit, clock)
        finally:
            outbox.unlock_delivery(lock_conn)
    return OutboxReport(delivered, failed, _pending(store))


def _pass(
    store: Store, subscribers: DurableSubscribers, limit: int, clock: Callable[[], datetime]
) -> tuple[int, int]:
    delivered = failed = after = 0
    held: set[tuple[str, str]] = set()  # entities whose earlier row failed this pass
    while delivered + failed < limit:
        with store.transaction(readonly=True) as conn:
            rows = outbox.select_pending(conn, limit=min(PAGE, limit), after=after)
        if not rows:
            break
        for row in rows:
            after = int(row["history_id"])
            entity = (str(row["workflow"]), str(row["entity_id"]))
            if entity in held:
                continue
            error = _deliver(transition_event(row["event"]), subscribers)
            with store.transaction() as conn:
                if error is None:
                    outbox.mark_delivered(conn, after, clock())
                else:
                    outbox.mark_failed(conn, after, error)
            if error is None:
                delivered += 1
            else:
                failed += 1
                held.add(entity)
            if delivered + failed >= limit:
                break
    return delivered, failed


def _deliver(event: Event, subscribers: DurableSubscribers) -> str | None:
    """Call each subscriber; the first failure as one line (the rest then wait), else None."""
    try:
        ctx: RequestContext | None = RequestContext.from_envelope(event.envelope)
    except Exception:  # noqa: BLE001  # a row written outside the engine carries no context
        ctx = None
    for fn in subscribers.targets(event.name):
        try:
            if ctx is None:
                fn(event)
            else:
                with use(ctx):
                    fn(event)
        except Exception as exc:  # a subscriber's bug is recorded on the row and retried
            log.exception(
                "durable subscriber failed",
                extra={"wfnb": {"event": event.name, "key": event.key, "subscriber": repr(fn)}},
            )
            return f"{getattr(fn, '__qualname__', repr(fn))}: {type(exc).__name__}: {exc}"
    return None


def _pending(store: Store) -> int:
    with store.transaction(readonly=True) as conn:
        return outbox.outbox_counts(conn)["pending"]

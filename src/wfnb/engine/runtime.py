"""The collaborators one engine composes (store, use cases, clock, events, queue, janitors).

``Engine`` builds a ``Runtime`` and hands it to the pipeline functions: composition, not
inheritance. Nothing here knows about any module's code; janitors are registered by the
name of the module that owns the claim.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from wfnb.engine.clock import Clock
from wfnb.engine.events import EventBus
from wfnb.engine.queue import JobQueue
from wfnb.engine.registry import UseCaseRegistry
from wfnb.store import Store

if TYPE_CHECKING:
    from wfnb.engine.results import StepResult

__all__ = ["DEFAULT_MAX_PAYLOAD_BYTES", "Hook", "Janitor", "Runtime"]

DEFAULT_MAX_PAYLOAD_BYTES = 256 * 1024
Janitor = Callable[..., Any]
"""``janitor(ctx: StepContext) -> Result | None`` for a stale claim of its module."""
Hook = Callable[["StepResult"], object]
"""Called after every engine call with its result (after commit, best-effort)."""


@dataclass
class Runtime:
    """Everything the pipeline needs, passed explicitly."""

    store: Store
    registry: UseCaseRegistry
    clock: Clock
    events: EventBus
    queue: JobQueue | None = None
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES
    hooks: list[Hook] = field(default_factory=list)
    janitors: dict[str, Janitor] = field(default_factory=dict)
    warned_no_queue: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

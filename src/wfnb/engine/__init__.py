"""The engine: step selection, the pipeline, claims, batches, observations, context, events.

``Engine`` is the facade; everything else is a collaborator it composes. This package
never imports pandas, IPython, ipywidgets or graphviz, and resolves its names lazily so
``from wfnb.engine.usecases import Result`` does not pull in SQLAlchemy.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wfnb.engine.clock import Clock, SystemClock
    from wfnb.engine.context import RequestContext
    from wfnb.engine.core import Engine
    from wfnb.engine.events import EventBus, InProcessEventBus
    from wfnb.engine.explain import Explanation, StepOption
    from wfnb.engine.outbox import DurableSubscribers, OutboxReport
    from wfnb.engine.queue import JobQueue, TimerJob
    from wfnb.engine.registry import UseCaseRegistry
    from wfnb.engine.results import HistoryKind, Outcome, StepResult

_LAZY = {
    "Clock": "wfnb.engine.clock",
    "DurableSubscribers": "wfnb.engine.outbox",
    "Engine": "wfnb.engine.core",
    "EventBus": "wfnb.engine.events",
    "Explanation": "wfnb.engine.explain",
    "HistoryKind": "wfnb.engine.results",
    "InProcessEventBus": "wfnb.engine.events",
    "JobQueue": "wfnb.engine.queue",
    "Outcome": "wfnb.engine.results",
    "OutboxReport": "wfnb.engine.outbox",
    "RequestContext": "wfnb.engine.context",
    "StepOption": "wfnb.engine.explain",
    "StepResult": "wfnb.engine.results",
    "SystemClock": "wfnb.engine.clock",
    "TimerJob": "wfnb.engine.queue",
    "UseCaseRegistry": "wfnb.engine.registry",
}

__all__ = [
    "Clock",
    "DurableSubscribers",
    "Engine",
    "EventBus",
    "Explanation",
    "HistoryKind",
    "InProcessEventBus",
    "JobQueue",
    "OutboxReport",
    "Outcome",
    "RequestContext",
    "StepOption",
    "StepResult",
    "SystemClock",
    "TimerJob",
    "UseCaseRegistry",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'wfnb.engine' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})

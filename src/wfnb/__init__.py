"""wfnb: an entity-is-state workflow engine, and a Jupyter toolkit on top of it.

The public API is this module's sorted ``__all__``. Names resolve lazily on first use, so
``import wfnb`` stays cheap and never pulls in pandas, IPython, ipywidgets or graphviz.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wfnb.analysis import (
        Change,
        Diagram,
        PathReport,
        WorkflowDiff,
        diagram,
        diff,
        diff_tenant,
        graph,
        paths,
    )
    from wfnb.analysis.conformance import ConformanceReport, conformance
    from wfnb.analysis.discovery import DirectlyFollows, discover
    from wfnb.analysis.report import report
    from wfnb.analysis.skeleton import skeleton
    from wfnb.engine import Engine, Explanation, HistoryKind, Outcome, StepResult
    from wfnb.engine.context import use
    from wfnb.engine.cron import cron
    from wfnb.engine.outbox import OutboxReport
    from wfnb.engine.usecases import Event, Requester, Result, StepContext, batch
    from wfnb.eventlog import ExportReport, ImportReport, LogMapping, export_log, import_log
    from wfnb.exceptions import (
        AmbiguousStepError,
        ConcurrentModificationError,
        ConfigError,
        ContextMissingError,
        EntityNotFoundError,
        EventLogError,
        InvalidPayloadError,
        NoStepAppliesError,
        QueueError,
        StepError,
        StoreError,
        UndeclaredObservationError,
        UnknownWorkflowError,
        UseCaseError,
        UseCaseFailedError,
        WfnbError,
        WfnbUsageError,
    )
    from wfnb.http import async_http_client, http_client
    from wfnb.jupyter import load_ipython_extension
    from wfnb.logs import configure_logging
    from wfnb.problems import Problem, Severity
    from wfnb.sandbox import DryRun, Sandbox, dry_run, sandbox
    from wfnb.simulation import (
        DemoReport,
        SimulationReport,
        WhatIfReport,
        build_demo,
        simulate,
        what_if,
    )
    from wfnb.spec import Workflow, Workflows
    from wfnb.timers import InMemoryQueue, TimerJob, VirtualClock
    from wfnb.timers.durable import ProcrastinateQueue
    from wfnb.validation import ValidationReport, load_workflow, load_workflows, validate

__version__ = "0.1.0"

# name -> module that defines it
_LAZY: dict[str, str] = {
    **dict.fromkeys(
        [
            "AmbiguousStepError",
            "ConcurrentModificationError",
            "ConfigError",
            "ContextMissingError",
            "EntityNotFoundError",
            "EventLogError",
            "InvalidPayloadError",
            "NoStepAppliesError",
            "QueueError",
            "StepError",
            "StoreError",
            "UndeclaredObservationError",
            "UnknownWorkflowError",
            "UseCaseError",
            "UseCaseFailedError",
            "WfnbError",
            "WfnbUsageError",
        ],
        "wfnb.exceptions",
    ),
    "Problem": "wfnb.problems",
    "Severity": "wfnb.problems",
    "Workflow": "wfnb.spec",
    "Workflows": "wfnb.spec",
    "Event": "wfnb.engine.usecases",
    "OutboxReport": "wfnb.engine.outbox",
    "Requester": "wfnb.engine.usecases",
    "Result": "wfnb.engine.usecases",
    "StepContext": "wfnb.engine.usecases",
    "batch": "wfnb.engine.usecases",
    "load_ipython_extension": "wfnb.jupyter",
    "ValidationReport": "wfnb.validation",
    "load_workflow": "wfnb.validation",
    "load_workflows": "wfnb.validation",
    "validate": "wfnb.validation",
    "InMemoryQueue": "wfnb.timers",
    "ProcrastinateQueue": "wfnb.timers.durable",
    "TimerJob": "wfnb.timers",
    "VirtualClock": "wfnb.timers",
    "Change": "wfnb.analysis",
    "Diagram": "wfnb.analysis",
    "PathReport": "wfnb.analysis",
    "WorkflowDiff": "wfnb.analysis",
    "diagram": "wfnb.analysis",
    "diff": "wfnb.analysis",
    "diff_tenant": "wfnb.analysis",
    "graph": "wfnb.analysis",
    "paths": "wfnb.analysis",
    "Engine": "wfnb.engine",
    "StepResult": "wfnb.engine",
    "Outcome": "wfnb.engine",
    "Explanation": "wfnb.engine",
    "HistoryKind": "wfnb.engine",
    "ConformanceReport": "wfnb.analysis.conformance",
    "conformance": "wfnb.analysis.conformance",
    "report": "wfnb.analysis.report",
    "DirectlyFollows": "wfnb.analysis.discovery",
    "discover": "wfnb.analysis.discovery",
    "skeleton": "wfnb.analysis.skeleton",
    "simulate": "wfnb.simulation",
    "build_demo": "wfnb.simulation",
    "what_if": "wfnb.simulation",
    "SimulationReport": "wfnb.simulation",
    "DemoReport": "wfnb.simulation",
    "WhatIfReport": "wfnb.simulation",
    "DryRun": "wfnb.sandbox",
    "Sandbox": "wfnb.sandbox",
    "dry_run": "wfnb.sandbox",
    "sandbox": "wfnb.sandbox",
    "configure_logging": "wfnb.logs",
    "http_client": "wfnb.http",
    "async_http_client": "wfnb.http",
    "use": "wfnb.engine.context",
    "ExportReport": "wfnb.eventlog",
    "ImportReport": "wfnb.eventlog",
    "LogMapping": "wfnb.eventlog",
    "export_log": "wfnb.eventlog",
    "import_log": "wfnb.eventlog",
    "cron": "wfnb.engine.cron",
}

__all__ = [
    "AmbiguousStepError",
    "Change",
    "ConcurrentModificationError",
    "ConfigError",
    "ConformanceReport",
    "ContextMissingError",
    "DemoReport",
    "Diagram",
    "DirectlyFollows",
    "DryRun",
    "Engine",
    "EntityNotFoundError",
    "Event",
    "EventLogError",
    "Explanation",
    "ExportReport",
    "HistoryKind",
    "ImportReport",
    "InMemoryQueue",
    "InvalidPayloadError",
    "LogMapping",
    "NoStepAppliesError",
    "OutboxReport",
    "Outcome",
    "PathReport",
    "Problem",
    "ProcrastinateQueue",
    "QueueError",
    "Requester",
    "Result",
    "Sandbox",
    "Severity",
    "SimulationReport",
    "StepContext",
    "StepError",
    "StepResult",
    "StoreError",
    "TimerJob",
    "UndeclaredObservationError",
    "UnknownWorkflowError",
    "UseCaseError",
    "UseCaseFailedError",
    "ValidationReport",
    "VirtualClock",
    "WfnbError",
    "WfnbUsageError",
    "WhatIfReport",
    "Workflow",
    "WorkflowDiff",
    "Workflows",
    "async_http_client",
    "batch",
    "build_demo",
    "configure_logging",
    "conformance",
    "cron",
    "diagram",
    "diff",
    "diff_tenant",
    "discover",
    "dry_run",
    "export_log",
    "graph",
    "http_client",
    "import_log",
    "load_ipython_extension",
    "load_workflow",
    "load_workflows",
    "paths",
    "report",
    "sandbox",
    "simulate",
    "skeleton",
    "use",
    "validate",
    "what_if",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'wfnb' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # resolve once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})

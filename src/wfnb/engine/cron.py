"""The cron executor: ``wfnb.cron(name)`` opens a system context, and the rule it guards.

A cron tick, a worker's periodic job or any other system-initiated work has no request to
inherit a context from. ``cron(name, tenant_id=None)`` opens a fresh one: a new correlation
id, requester type ``system``, no user, no tenant or the one named, and ``cron=name``. It
is a context manager (``with wfnb.cron("nightly-billing"):``) and a decorator on sync and
async functions (``@wfnb.cron("nightly-billing")``: a fresh context on every call). On exit
the outer context, if any, is current again.

The rule (``check_system_requester``): a workflow may declare ``system_requester_types``;
a call that runs as one of them outside a cron context is refused with
``ContextMissingError`` (WF209, ``boundary='cron'``) before anything is read or written.
The engine's own continuations (a timer's step, the step an observation proceeds to)
are exempt: the engine, not a caller, runs them. See docs/adr/0103-cron-context.md.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from contextvars import ContextVar, Token
from typing import Any, ParamSpec, TypeVar, cast

from wfnb.engine import context as request_context
from wfnb.engine.context import RequestContext
from wfnb.exceptions import ContextMissingError, WfnbUsageError
from wfnb.spec import NAME_LENGTH, Workflow

__all__ = ["CRON_REQUESTER", "CronContext", "check_system_requester", "cron", "system_caller"]

CRON_REQUESTER = "system"
"""The requester type of a cron context."""

P = ParamSpec("P")
R = TypeVar("R")

_ENTRIES: ContextVar[tuple[Token[RequestContext | None], ...]] = ContextVar(
    "wfnb_cron_entries", default=()
)
"""The tokens of the cron contexts entered, innermost last. A context variable, not a list
on the ``CronContext``: one object entered by concurrent tasks (each with its own copy of
the context) restores each task's own outer context."""


class CronContext:
    """What ``cron(...)`` returns: a context manager and a decorator.

    Each ``with`` entry (and each call of a decorated function) opens a fresh
    ``RequestContext``; the object itself holds only the name and tenant, so one
    ``CronContext`` may be entered again, nested, or decorate several functions.
    """

    __slots__ = ("name", "tenant_id")

    def __init__(self, name: str, tenant_id: str | None = None) -> None:
        self.name = name
        self.tenant_id = tenant_id

    def fresh(self) -> RequestContext:
        """A new context of this cron job (a new correlation id each time)."""
        return RequestContext(
            correlation_id=request_context.new_correlation_id(),
            tenant_id=self.tenant_id,
            user_id=None,
            requester_type=CRON_REQUESTER,
            cron=self.name,
        )

    def __enter__(self) -> RequestContext:
        ctx = self.fresh()
        token = request_context._CURRENT.set(ctx)  # the context module's variable
        _ENTRIES.set((*_ENTRIES.get(), token))
        return ctx

    def __exit__(self, *_exc: object) -> None:
        *outer, token = _ENTRIES.get()
        _ENTRIES.set(tuple(outer))
        request_context._CURRENT.reset(token)

    def __call__(self, fn: Callable[P, R]) -> Callable[P, R]:
        """Decorate ``fn`` (sync or async): every call runs in a fresh context of this job."""
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with CronContext(self.name, self.tenant_id):
                    return await fn(*args, **kwargs)

            return cast("Callable[P, R]", run_async)

        @functools.wraps(fn)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            with CronContext(self.name, self.tenant_id):
                return fn(*args, **kwargs)

        return run

    def __repr__(self) -> str:
        tenant = f", tenant_id={self.tenant_id!r}" if self.tenant_id is not None else ""
        return f"cron({self.name!r}{tenant})"


def cron(name: str, tenant_id: str | None = None) -> CronContext:
    """The context of the cron job ``name``: fresh correlation id, requester ``system``.

    Args:
        name: Names the job in logs (``cron``) and history rows (``metadata.cron``).
        tenant_id: The tenant the job works for; None (the default) for all of them.

    Raises:
        WfnbUsageError: An empty name, or a name or tenant that is not text or longer
            than the history columns hold (WF400).

    Example:
        >>> with wfnb.cron("nightly-billing"):
        ...     engine.execute_batch("invoice", ids, "system")
    """
    for what, value, optional in (("name", name, False), ("tenant_id", tenant_id, True)):
        if value is None and optional:
            continue
        if not isinstance(value, str) or not value.strip() or len(value) > NAME_LENGTH:
            raise WfnbUsageError(
                f"cron {what} must be text of 1 to {NAME_LENGTH} characters, not {value!r}",
                value=value,
            )
    return CronContext(name, tenant_id)


def check_system_requester(workflow: Workflow, ctx: RequestContext) -> None:
    """WF209 when ``ctx`` runs as one of ``workflow``'s system requester types outside a cron.

    Raises:
        ContextMissingError: the requester type is declared in
            ``system_requester_types`` and ``ctx`` is not a cron context (WF209,
            ``boundary="cron"``).
    """
    requester = ctx.requester_type
    if ctx.cron is not None or requester is None:
        return
    if requester in workflow.system_requester_types:
        raise ContextMissingError(
            f"{workflow.name}: requester type {requester!r} is a system requester type: "
            f"run it inside wfnb.cron(...) (with wfnb.cron('job-name'): ...)",
            workflow=workflow.name,
            requester_type=requester,
            boundary="cron",
        )


def system_caller(
    workflow: Workflow, requester_type: str | None, name: str
) -> AbstractContextManager[Any]:
    """``cron(name)`` where a call as ``requester_type`` needs one and none is current.

    For tools that play system work back (the simulation, a replay): a no-op unless
    ``requester_type`` is one of ``workflow``'s system requester types and the current
    context is not already a cron's. Explicit ids given to the engine call still win
    over the cron's fresh ones.
    """
    outer = request_context.current()
    needed = requester_type in workflow.system_requester_types
    if not needed or (outer is not None and outer.cron is not None):
        return nullcontext()
    return CronContext(name)

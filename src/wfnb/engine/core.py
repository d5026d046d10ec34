"""``Engine``: the facade that composes store, use cases, clock, events and queue.

Each public method resolves the workflow (an unknown name raises WF200), builds the
request context, and hands a ``Call`` to the pipeline. Runtime problems (WF201-WF209)
come back in ``StepResult.error``; only WF200 and store errors (WF300) are raised (and
WF209 from ``run_timer`` for a job without its envelope). A requester type the workflow
declares in ``system_requester_types`` runs only inside ``wfnb.cron(...)`` (WF209, ADR 0103).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import sqlalchemy as sa

from wfnb.engine import context as request_context
from wfnb.engine import timing
from wfnb.engine.batch import run_batch
from wfnb.engine.claims import recover
from wfnb.engine.clock import Clock, SystemClock
from wfnb.engine.events import EventBus, InProcessEventBus, Subscriber
from wfnb.engine.explain import Explanation, explain
from wfnb.engine.observe import run_observe
from wfnb.engine.outbox import DurableSubscribers, OutboxReport, deliver_outbox
from wfnb.engine.pipeline import run_step
from wfnb.engine.queue import JobQueue, TimerJob
from wfnb.engine.registry import UseCaseRegistry
from wfnb.engine.results import HistoryKind, StepResult
from wfnb.engine.runtime import DEFAULT_MAX_PAYLOAD_BYTES, Hook, Janitor, Runtime
from wfnb.engine.transitions import Call
from wfnb.exceptions import ConfigError, UnknownWorkflowError
from wfnb.spec import Workflow, Workflows
from wfnb.store import Store
from wfnb.store.manual import Audited

__all__ = ["Engine"]

log = logging.getLogger("wfnb.engine")

WorkflowsLike = Workflows | Mapping[str, Workflow] | Iterable[Workflow]


def _checked(wfs: WorkflowsLike) -> Workflows:
    """``Workflows`` as given (already loaded), or validated (ConfigError on any error)."""
    if isinstance(wfs, Workflows):
        return wfs
    models = list(wfs.values()) if isinstance(wfs, Mapping) else list(wfs)
    from wfnb.validation import validate  # noqa: PLC0415  # the layer above, only when needed

    report = validate(models)
    if not report.ok:
        raise ConfigError(report.problems)
    return Workflows({w.name: w for w in models})


class Engine:
    """Runs steps of loaded workflows against one database.

    Args:
        wfs: ``Workflows`` from ``load_workflows`` (trusted), or a mapping / iterable of
            ``Workflow`` models (validated here: an invalid config raises ``ConfigError``).
        db: a SQLAlchemy ``Engine`` or a database URL.
        queue: where timers go (``JobQueue``); without one, timers log a warning once.
        events: the event bus (default: an in-process bus, ``engine.events.subscribe``).
        clock: the engine's clock (default: ``SystemClock``, UTC).
        max_payload_bytes: payloads larger than this (as JSON) are WF208.
    """

    def __init__(
        self,
        wfs: WorkflowsLike,
        db: sa.Engine | str | sa.URL,
        *,
        queue: JobQueue | None = None,
        events: EventBus | None = None,
        clock: Clock | None = None,
        max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES,
        use_cases: UseCaseRegistry | None = None,
    ) -> None:
        self.workflows = _checked(wfs)
        self.store = Store(db)
        self.events: Any = events if events is not None else InProcessEventBus()
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.queue = queue
        self.use_cases = use_cases if use_cases is not None else UseCaseRegistry()
        self.durable = DurableSubscribers()
        """The outbox's subscribers (``subscribe_durable``)."""
        self._rt = Runtime(
            store=self.store,
            registry=self.use_cases,
            clock=self.clock,
            events=self.events,
            queue=queue,
            max_payload_bytes=max_payload_bytes,
        )
        bind = getattr(queue, "bind", None)
        if callable(bind):
            bind(self)  # a queue that runs its own due jobs calls back ``run_timer``

    @property
    def db(self) -> sa.Engine:
        """The SQLAlchemy engine the store uses."""
        return self.store.engine

    def install(
        self,
        *,
        allow_undeclared_statuses: bool = False,
        audit_trigger: bool = False,
        partition_history: str | None = None,
    ) -> None:
        """Create the engine-owned tables, indexes and (PostgreSQL) RLS policies; idempotent.

        A queue that keeps its own schema (``ProcrastinateQueue``) installs it too.

        Then the start-up check of a forgotten migration: an entity table holding entities
        at a status its workflow does not declare (whatever the column's kind) raises
        ``ConfigError`` (WF112, each status with its count and the UPDATE that moves them).
        ``allow_undeclared_statuses=True`` starts anyway and logs each as a WARNING.

        ``audit_trigger=True`` also installs (or replaces) on each workflow's entity table
        the trigger that records a status change made outside the engine (an ``UPDATE`` by
        hand) as a history row of kind ``manual``, with the database role and ``app.*``
        settings on PostgreSQL (ADR 0104). ``False`` leaves an installed trigger in place.

        ``partition_history="month"`` (PostgreSQL only) creates ``workflow_history``
        partitioned by month of ``changed_at``, with the months ahead and a default
        partition; run again, it adds the months ahead (docs/adr/0113).

        Raises:
            ConfigError: undeclared statuses in an entity table (WF112).
            WfnbUsageError: ``partition_history`` on SQLite, or on an existing history that
                is not partitioned (WF400); nothing is changed.
        """
        self.store.install(partition_history=partition_history)
        if audit_trigger:
            self.store.install_audit_trigger(
                [
                    Audited(
                        wf.name,
                        wf.entity,
                        self.store.entity_table(wf.entity),
                        wf.config_hash,
                        wf.config_rev,
                    )
                    for wf in self.workflows.values()
                ]
            )
        self._check_statuses(allow=allow_undeclared_statuses)
        install_queue = getattr(self.queue, "install", None)
        if callable(install_queue):
            install_queue()

    def _check_statuses(self, *, allow: bool) -> None:
        """WF112 for entities at undeclared statuses: refuse, or (allowed) warn loudly."""
        from wfnb.validation.database import undeclared_statuses  # noqa: PLC0415  # layer above

        problems = undeclared_statuses(self.workflows.values(), self.store.engine)
        if problems and not allow:
            raise ConfigError(problems)
        for problem in problems:
            log.warning(
                "starting despite undeclared statuses (allow_undeclared_statuses): %s",
                problem.one_line(),
                extra={"wfnb": {"code": problem.code, "workflow": problem.workflow}},
            )

    def workflow(self, name: str) -> Workflow:
        """The loaded workflow ``name``; ``UnknownWorkflowError`` (WF200) if none."""
        try:
            return self.workflows[name]
        except KeyError:
            raise UnknownWorkflowError(
                f"unknown workflow {name!r}; loaded: {', '.join(sorted(self.workflows)) or 'none'}",
                workflow=name,
            ) from None

    def _call(
        self,
        workflow: str,
        requester_type: str | None,
        *,
        step: str | None = None,
        data: Any = None,
        tenant_id: str | None = None,
        user_id: str | None = None,
        correlation_id: str | None = None,
        kind: HistoryKind = HistoryKind.INITIATED,
    ) -> Call:
        ctx = request_context.resolve(
            correlation_id=correlation_id,
            tenant_id=tenant_id,
            user_id=user_id,
            requester_type=requester_type,
        )
        # the tenant's config (its overlay merged in); a call without a tenant on a
        # tenant-scoped table gets the entity's tenant's config once the row is read
        audit = {"cron": ctx.cron} if ctx.cron is not None else {}  # ADR 0103
        return Call(
            self.workflow(workflow).for_tenant(ctx.tenant_id), ctx, data, step, kind, audit=audit
        )

    def execute_step(
        self,
        workflow: str,
        entity_id: Any,
        requester_type: str,
        *,
        step: str | None = None,
        data: Mapping[str, Any] | None = None,
        tenant_id: str | None = None,
        user_id: str | None = None,
        correlation_id: str | None = None,
    ) -> StepResult:
        """Run the step that applies to the entity (or the named one) as ``requester_type``.

        A system requester type of the workflow outside ``wfnb.cron(...)`` is refused:
        WF209 (``ContextMissingError``, ``boundary='cron'``) in the result, nothing read or written.
        """
        call = self._call(
            workflow,
            requester_type,
            step=step,
            data=data,
            tenant_id=tenant_id,
            user_id=user_id,
            correlation_id=correlation_id,
        )
        return run_step(self._rt, call, entity_id)

    def execute_batch(
        self,
        workflow: str,
        entity_ids: Sequence[Any],
        requester_type: str,
        *,
        step: str | None = None,
        data: Mapping[str, Any] | None = None,
        tenant_id: str | None = None,
        user_id: str | None = None,
        correlation_id: str | None = None,
    ) -> list[StepResult]:
        """Run one step over many entities; per-entity results in input order (ADR 0011)."""
        call = self._call(
            workflow,
            requester_type,
            step=step,
            data=data,
            tenant_id=tenant_id,
            user_id=user_id,
            correlation_id=correlation_id,
        )
        return run_batch(self._rt, call, entity_ids)  # the id list is checked there

    def observe(
        self,
        workflow: str,
        entity_id: Any,
        to_status: str,
        *,
        source: str,
        data: Mapping[str, Any] | None = None,
        tenant_id: str | None = None,
        correlation_id: str | None = None,
    ) -> StepResult:
        """Record a transition that happened outside (declared in ``observed_transitions``)."""
        call = self._call(
            workflow,
            None,
            data=data,
            tenant_id=tenant_id,
            correlation_id=correlation_id,
            kind=HistoryKind.OBSERVED,  # the run record says "observation" (ADR 0100)
        )
        return run_observe(self._rt, call, entity_id, to_status, source)

    def explain(
        self,
        workflow: str,
        entity_id: Any,
        requester_type: str,
        *,
        step: str | None = None,
        tenant_id: str | None = None,
    ) -> Explanation:
        """What ``execute_step`` would select for this entity and requester, and why."""
        around = request_context.current()
        tenant = tenant_id if tenant_id is not None or around is None else around.tenant_id
        return explain(
            self._rt,
            self.workflow(workflow).for_tenant(tenant),
            entity_id,
            requester_type,
            step=step,
            tenant_id=tenant_id,
        )

    def register_janitor(self, owning_module: str, janitor: Janitor) -> None:
        """Register ``janitor(ctx) -> Result`` for stale claims of ``owning_module``'s workflows."""
        with self._rt.lock:
            self._rt.janitors[owning_module] = janitor

    def recover_claims(self, *, tenant_id: str | None = None) -> list[StepResult]:
        """Hand claims older than their ``stale_after`` to the owning modules' janitors."""
        return recover(self._rt, self.workflows, tenant_id)

    def created(
        self,
        workflow: str,
        entity_id: str,
        *,
        tenant_id: str | None = None,
        user_id: str | None = None,
        correlation_id: str | None = None,
        requester_type: str = "system",
    ) -> StepResult:
        """Record an entity its owning module just created at the initial status.

        Writes a history row with no ``from_status`` and arms the initial status's timers
        (a creation happens outside the engine, so nothing else would arm them). Idempotent:
        once the creation is recorded, a further call writes nothing and says so:
        ``outcome="rejected"``, ``ok`` True, ``from_status`` where the entity is,
        ``to_status`` None, ``metadata={"reason": "already recorded",
        "already_recorded": True}``; missing timers of the initial status are armed again.
        WF201: no such entity; WF202: not recorded and no longer at the initial status.
        """
        call = self._call(
            workflow,
            requester_type,
            tenant_id=tenant_id,
            user_id=user_id,
            correlation_id=correlation_id,
        )
        return timing.created(self._rt, call, str(entity_id))

    def rearm_timers(self, *, tenant_id: str | None = None) -> list[TimerJob]:
        """Arm missing timers of entities sitting at a timed status (after a crash)."""
        return timing.rearm(self._rt, self.workflows, tenant_id)

    def recover(self) -> dict[str, int]:
        """The periodic recovery pass a worker runs: stale claims, then missing timers."""
        claims = self.recover_claims()
        timers = self.rearm_timers()
        return {"claims": len(claims), "timers_armed": len(timers)}

    def run_timer(self, job: TimerJob) -> StepResult:
        """Run a due timer job in its envelope's context (WF209 without one; history ``timer``).

        A job whose entity has left the status (or version) it was armed at does nothing
        and comes back as WF202; so does a job whose timer key, step, requester type and
        status are not one declared timer of the workflow (the entity's tenant's config),
        e.g. a hand-made one: nothing is written.
        """
        ctx = request_context.RequestContext.from_envelope(job.envelope, boundary="timer job")
        call = self._call(
            job.workflow,
            job.requester_type,
            step=job.step,
            tenant_id=ctx.tenant_id,
            user_id=ctx.user_id,
            correlation_id=ctx.correlation_id,
            kind=HistoryKind.TIMER,
        )
        # Exactly the envelope's context (an empty user stays empty, whatever call is
        # running around this one); who armed the timer is kept for audit, and the cron
        # context the queue runs it in (ADR 0103). A timer is the engine's own work: its
        # system requester type needs no cron context (``internal``).
        armed_by = job.envelope.get("armed_by")
        audit = {"armed_by": armed_by} if armed_by else {}
        call = replace(
            call,
            context=replace(call.context, user_id=ctx.user_id),
            expect=(job.status, job.entered_version),
            timer_key=job.timer_key,
            audit={**call.audit, **audit},
            internal=True,
        )
        return run_step(self._rt, call, job.entity_id)

    def subscribe_durable(self, name: str, fn: Subscriber) -> Callable[[], None]:
        """Deliver outbox events named ``name`` (``"transition"``, ``"*"``) to ``fn``.

        Delivery is at least once, per entity in commit order, by ``deliver_outbox`` (the
        worker runs it); ``event.key`` (the history id) is the idempotency key. ADR 0102.

        Returns:
            A function that removes the subscription.
        """
        return self.durable.subscribe(name, fn)

    def deliver_outbox(self, *, limit: int = 1000) -> OutboxReport:
        """One delivery pass of ``workflow_outbox`` to the durable subscribers (see above)."""
        return deliver_outbox(self.store, self.durable, limit=limit, now=self.clock.now)

    def add_hook(self, hook: Hook) -> None:
        """Call ``hook(result)`` after every engine call (after commit; failures are logged)."""
        self._rt.hooks.append(hook)

    def dispose(self) -> None:
        """Close the store's pooled connections (a SQLAlchemy engine passed in is the caller's)."""
        self.store.dispose()

    def __repr__(self) -> str:
        return f"<Engine {sorted(self.workflows)} on {self.store.engine.url.render_as_string()}>"

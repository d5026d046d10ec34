"""The building blocks every engine path shares: the call, use-case invocation, the write.

``write`` is the one place an entity changes status: the compare-and-swap, its history
row, and (entering a failure status) the permanent-failure-log row, all in the caller's
transaction. ``AbortStepError`` is internal control flow: raised inside a transaction to
roll it back, it carries the ``StepError`` the caller returns in its ``StepResult``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from time import perf_counter
from types import MappingProxyType
from typing import Any, cast

import sqlalchemy as sa

from wfnb.engine import guard, inputs
from wfnb.engine.context import RequestContext
from wfnb.engine.cron import check_system_requester
from wfnb.engine.results import HistoryKind
from wfnb.engine.runtime import Runtime
from wfnb.engine.usecases import Requester, Result, ResultKind, StepContext, is_batch
from wfnb.exceptions import (
    ConcurrentModificationError,
    ContextMissingError,
    EntityNotFoundError,
    InvalidPayloadError,
    StepError,
    UseCaseError,
    UseCaseFailedError,
)
from wfnb.spec import Step, Workflow
from wfnb.store import queries
from wfnb.store.errors import describe_db_error
from wfnb.store.tables import PERMANENT_FAILURE_LOG

__all__ = [
    "AbortStepError",
    "Call",
    "Transition",
    "as_result",
    "call_use_case",
    "check_call",
    "check_events",
    "check_payload",
    "entity_tenant",
    "failure_code",
    "failure_error",
    "failure_reason",
    "invoke",
    "load",
    "make_context",
    "noted",
    "use_case_error",
    "write",
]


class AbortStepError(Exception):
    """Internal: roll the transaction back and report ``error`` (never leaves the engine).

    ``error=None`` is a rejection with no rejection path declared: nothing is written and
    the outcome is ``rejected`` with ``metadata``.
    """

    def __init__(
        self,
        error: StepError | None,
        *,
        permanent: bool = False,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(error.message if error is not None else "rejected")
        self.error = error
        self.permanent = permanent
        self.metadata: Mapping[str, Any] = metadata or {}


@dataclass(frozen=True, slots=True)
class Call:
    """One request to the engine, resolved: who, on what workflow, with what payload."""

    workflow: Workflow
    context: RequestContext
    data: Any = None  # the caller's payload; ``check_payload`` turns it into a dict
    step_key: str | None = None
    kind: HistoryKind = HistoryKind.INITIATED
    started: float = field(default_factory=perf_counter)
    expect: tuple[str, int] | None = None  # a timer's (status, entered_version) precondition
    timer_key: str | None = None  # a timer job's key: it must name a declared timer
    audit: Mapping[str, Any] = field(default_factory=dict)
    """What this call's history and failure rows record beside the use cases' metadata
    (a timer's ``armed_by``: the user whose step armed it; a cron context's ``cron``)."""
    internal: bool = False
    """The engine itself runs this call (a timer's step, the step an observation proceeds
    to): a system requester type needs no cron context (``wfnb.engine.cron``)."""

    @property
    def requester_type(self) -> str:
        """The requester type this call runs as."""
        return self.context.requester_type or ""

    def requester(self, tenant_id: str | None) -> Requester:
        """The requester a use case sees (tenant: the entity's, when the table has one)."""
        ctx = self.context
        return Requester(self.requester_type, ctx.user_id, tenant_id, ctx.correlation_id)

    def elapsed_ms(self) -> float:
        """Milliseconds since the call started."""
        return (perf_counter() - self.started) * 1000.0

    @property
    def settings(self) -> dict[str, str | None]:
        """What the store sets as ``app.*`` on this call's transactions (ADR 0104)."""
        ctx = self.context
        return {
            "user_id": ctx.user_id,
            "correlation_id": ctx.correlation_id,
            "requester_type": ctx.requester_type,
        }


@dataclass(frozen=True, slots=True)
class Transition:
    """One status change about to be written."""

    kind: HistoryKind
    step: str | None
    from_status: str
    to_status: str
    metadata: Mapping[str, Any] = field(default_factory=dict)
    source: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None


def check_payload(data: Any, limit: int) -> dict[str, Any]:
    """The payload as the engine's own deep copy, or ``AbortStepError`` with WF208.

    Nothing has run yet; see ``wfnb.engine.inputs.payload`` for what is checked.
    """
    try:
        return inputs.payload(data, limit)
    except InvalidPayloadError as exc:
        raise AbortStepError(exc) from None


def check_call(call: Call, limit: int) -> Call:
    """``call`` with its request context's ids and its payload checked (WF208 aborts).

    The payload becomes the engine's own copy; with none given it stays None (each use
    case then sees an empty dict). A system requester type outside a cron context aborts
    with WF209 (``wfnb.engine.cron``) unless the engine itself runs the call.
    """
    try:
        if not call.internal:
            check_system_requester(call.workflow, call.context)
        inputs.check_context(call.context)
        if call.data is None:
            return call
        return replace(call, data=inputs.payload(call.data, limit))
    except (InvalidPayloadError, ContextMissingError) as exc:
        raise AbortStepError(exc) from None


def entity_tenant(workflow: Workflow, row: Mapping[str, Any], call: Call) -> str | None:
    """The tenant a history row gets: the entity's (tenant-scoped table) or the caller's."""
    column = workflow.entity.tenant_column
    if column is None:
        return call.context.tenant_id
    value = row.get(column)
    return None if value is None else str(value)


def tenant_config(call: Call, row: Mapping[str, Any]) -> Call:
    """``call`` with the config of ``row``'s tenant (its overlay), when that differs."""
    wf = call.workflow
    if wf.entity.tenant_column is None or not wf.base.tenant_configs:
        return call
    config = wf.for_tenant(entity_tenant(wf, row, call))
    return call if config is wf else replace(call, workflow=config)


def load(rt: Runtime, conn: sa.Connection, call: Call, entity_id: Any) -> dict[str, Any]:
    """The entity row (tenant-filtered), or ``AbortStepError`` with WF201."""
    wf = call.workflow
    table = rt.store.entity_table(wf.entity)
    try:
        key = inputs.entity_key(table, wf.entity.id_column, entity_id)
    except (InvalidPayloadError, EntityNotFoundError) as exc:
        raise AbortStepError(exc) from None
    row = queries.select_entity(conn, table, wf.entity, key, call.context.tenant_id)
    if row is None:
        raise AbortStepError(
            EntityNotFoundError(
                f"{wf.name}: no entity {entity_id!r} in {wf.entity.table!r}"
                + (f" for tenant {call.context.tenant_id!r}" if call.context.tenant_id else ""),
                workflow=wf.name,
                entity_id=str(entity_id),
            )
        )
    tenant = entity_tenant(wf, row, call)
    if call.context.tenant_id is None and tenant is not None:
        rt.store.set_tenant(conn, tenant)  # system call on a tenant's entity: write as it
    return row


def make_context(
    rt: Runtime, conn: sa.Connection, call: Call, step: Step, row: Mapping[str, Any]
) -> StepContext:
    """The ``StepContext`` a use case receives for ``row``.

    Its ``data`` is its own copy of the (checked) payload, so what one use case changes no
    other entity sees; its ``conn`` cannot end the transaction (``wfnb.engine.guard``).
    """
    wf = call.workflow
    return StepContext(
        entity=row,
        data={} if not call.data else inputs.copy_json(call.data),
        requester=call.requester(entity_tenant(wf, row, call)),
        conn=cast("sa.Connection", guard.guarded(conn)),
        workflow=wf,
        step=step,
        now=rt.clock.now(),
    )


def as_result(out: Any) -> Result:
    """A use case's return value as a checked ``Result`` (None → ok).

    A ``Result`` whose kind is not a ``ResultKind`` (built around ``__init__``), whose
    texts are not text, whose failure code is longer than the failure log stores, or whose
    metadata (with the reason) JSON or PostgreSQL cannot hold is refused: the step fails
    with WF206, never "ok" and never a store error later.

    Raises:
        TypeError, ValueError: not a Result, or one the engine cannot record.
    """
    if out is None:
        return Result.ok()
    if not isinstance(out, Result):
        raise TypeError(f"returned {type(out).__name__}, not a Result")
    if type(out.kind) is not ResultKind:
        raise TypeError(f"returned a Result of kind {out.kind!r}, not a ResultKind")
    if not isinstance(out.metadata, Mapping):
        raise TypeError(f"returned a Result whose metadata is {type(out.metadata).__name__}")
    for name in ("reason", "code", "message"):
        value = getattr(out, name)
        if value is not None and not isinstance(value, str):
            raise TypeError(f"returned a Result whose {name} is {type(value).__name__}, not text")
    if out.code is not None and len(out.code) > _CODE_LIMIT:
        raise ValueError(f"returned a failure code over {_CODE_LIMIT} characters")
    if out.metadata or out.reason is not None or out.message is not None:
        _check_recordable(out)
    return out


def _check_recordable(out: Result) -> None:
    """ValueError unless history (JSON, JSONB on PostgreSQL) can hold what ``out`` carries."""
    try:
        text = json.dumps([dict(out.metadata), out.reason, out.message], allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise ValueError(f"returned a Result JSON cannot hold: {exc}") from None
    if "\\u0000" in text and inputs.holds_nul([dict(out.metadata), out.reason, out.message]):
        raise ValueError("returned a Result holding a NUL character, which PostgreSQL cannot store")


_CODE_LIMIT = inputs.text_limit("error_code", PERMANENT_FAILURE_LOG)
"""A failure code is at most as long as ``workflow_permanent_failure_log.error_code``."""


def use_case_error(label: str, exc: BaseException) -> AbortStepError:
    """WF206 for an exception escaping use case ``label`` (chained as ``__cause__``).

    A database error is described without its SQL statement or bound parameters (they
    may carry personal data): its class, the driver's message and the table it wrote;
    the statement stays on the chained exception.
    """
    error = UseCaseError(f"use case {label!r} raised {describe_db_error(exc)}", use_case=label)
    error.__cause__ = exc
    return AbortStepError(error)


def check_events(ctx: Any) -> None:
    """TypeError unless ``ctx.events`` is still a list of (name, payload) pairs.

    The engine reads it after the use case, to publish after the commit: a use case that
    replaced it (``ctx.events = None``) fails its step before anything is committed.
    """
    if not isinstance(ctx, StepContext):
        return
    events: Any = ctx.events
    if not isinstance(events, list):
        raise TypeError(f"set ctx.events to {type(events).__name__}, not a list (use ctx.emit)")
    for event in events:
        if not (
            isinstance(event, tuple)
            and len(event) == 2
            and isinstance(event[0], str)
            and isinstance(event[1], Mapping)
        ):
            raise TypeError(
                f"put {type(event).__name__} in ctx.events, not a (name, payload) pair "
                "(use ctx.emit)"
            )


def call_use_case(fn: Any, ctx: Any, label: str) -> Result:
    """Run one use case; an exception or a bad return value becomes WF206 (``AbortStepError``).

    Returns:
        The use case's ``Result`` (ok, reject or fail).
    """
    conn = getattr(ctx, "conn", None)
    if not isinstance(conn, guard.StepConnection):
        conn = None
    refusals = conn.refusals if conn else 0
    was_open = conn is not None and guard.transaction_open(conn.wrapped)
    try:
        result = as_result(fn(ctx))
        check_events(ctx)
    except Exception as exc:  # a use case's bug becomes WF206, never a crash
        raise use_case_error(label, exc) from exc
    if conn is not None and (
        conn.refusals != refusals or (was_open and not guard.transaction_open(conn.wrapped))
    ):
        raise use_case_error(
            label, RuntimeError("it tried to end the step's transaction through ctx.conn")
        )
    if conn is not None and guard.transaction_failed(conn.wrapped):
        raise use_case_error(
            label,
            RuntimeError(
                "a statement of it failed and it carried on: the step's transaction is "
                "aborted (run what may fail inside ctx.conn.begin_nested())"
            ),
        )
    return result


_NOTHING_TO_RUN = Result(ResultKind.OK, MappingProxyType({}))
"""The result of a stage with no use case (shared: frozen, and its metadata read-only)."""


def invoke(rt: Runtime, call: Call, name: str | None, ctx: StepContext) -> Result:
    """Resolve and run the use case ``name`` (None → ok); a ``fail`` aborts the step.

    Returns:
        An ok or reject ``Result``.
    """
    if name is None:
        return _NOTHING_TO_RUN
    try:
        fn = rt.registry.resolve(call.workflow, name)
    except (ImportError, AttributeError, TypeError) as exc:
        error = UseCaseError(f"use case {name!r} does not resolve: {exc}", use_case=name)
        error.__cause__ = exc
        raise AbortStepError(error) from exc
    result = call_use_case(_one_at_a_time(fn) if is_batch(fn) else fn, ctx, name)
    if result.kind is ResultKind.FAILED:
        raise AbortStepError(failure_error(result, name), permanent=result.permanent)
    return result


def _one_at_a_time(fn: Any) -> Any:
    """A batch-aware use case called for a single entity: ``fn([ctx])[0]``."""

    def single(ctx: StepContext) -> Any:
        out = list(fn([ctx]) or [])
        if len(out) != 1:
            raise TypeError(f"batch use case returned {len(out)} results for 1 entity")
        return out[0]

    return single


def failure_code(error: UseCaseFailedError) -> str | None:
    """The use case's own failure code carried by a WF205 error."""
    code = error.fields.get("failure_code")
    return None if code is None else str(code)


def failure_error(result: Result, label: str) -> UseCaseFailedError:
    """The WF205 error for a ``Result.fail`` (the use case's own code in ``failure_code``)."""
    return UseCaseFailedError(
        f"use case {label!r} failed: {result.code}: {result.message}",
        failure_code=result.code,
        use_case=label,
        permanent=result.permanent,
        metadata=dict(result.metadata),
    )


def write(
    rt: Runtime, conn: sa.Connection, call: Call, row: Mapping[str, Any], t: Transition
) -> int:
    """CAS the entity from ``row``'s version to ``t.to_status`` + its history row (+ failure log).

    Returns:
        The entity's new version.

    Raises:
        AbortStepError: the CAS matched no row (WF204); the transaction must roll back.
    """
    wf = call.workflow
    spec = wf.entity
    entity_id = row[spec.id_column]
    table = rt.store.entity_table(spec)
    version = row[spec.version_column]
    now = rt.clock.now()
    tenant = entity_tenant(wf, row, call)
    new_version = int(version) + 1
    history = history_row(call, str(entity_id), tenant, t, now, new_version)
    history_id = queries.swap_and_record(
        conn, table, spec, entity_id, version=version, to_status=t.to_status, history=history
    )
    if history_id is None:
        raise AbortStepError(
            ConcurrentModificationError(
                f"{wf.name}: entity {entity_id!r} changed concurrently (version "
                f"{row[spec.version_column]} is gone)",
                workflow=wf.name,
                entity_id=str(entity_id),
                expected=row[spec.version_column],
            )
        )
    if t.to_status in wf.failure_statuses:
        queries.insert_failures(conn, [failure_row(call, str(entity_id), tenant, t, now)])
    noted(rt, [history], [history_id])
    return new_version


def noted(rt: Runtime, rows: Sequence[Mapping[str, Any]], ids: Sequence[int]) -> None:
    """Hand the history rows just written (with their ids) to the store.

    It keeps them for the ``transition`` events published after the transaction commits.
    """
    rt.store.note_written([{**row, "id": i} for row, i in zip(rows, ids, strict=True)])


def history_row(  # noqa: PLR0917  # one positional per column group, as its callers build it
    call: Call, entity_id: str, tenant: str | None, t: Transition, now: Any, version: int | None
) -> dict[str, Any]:
    """The ``workflow_history`` row of transition ``t``."""
    wf, ctx = call.workflow, call.context
    return {
        "workflow": wf.name,
        "entity_table": wf.entity.table,
        "entity_id": entity_id,
        "tenant_id": tenant,
        "step_key": t.step,
        "kind": t.kind.value,
        "from_status": t.from_status,
        "to_status": t.to_status,
        "requester_type": ctx.requester_type,
        "user_id": ctx.user_id,
        "correlation_id": ctx.correlation_id,
        "source": t.source,
        "config_hash": wf.config_hash,
        "config_rev": wf.config_rev,
        "metadata": {**call.audit, **t.metadata},
        "duration_ms": round(call.elapsed_ms(), 3),
        "changed_at": now,
        "entity_version": version,
    }


def failure_row(
    call: Call, entity_id: str, tenant: str | None, t: Transition, now: Any
) -> dict[str, Any]:
    """The ``workflow_permanent_failure_log`` row of entering a failure status."""
    wf = call.workflow
    code, message = failure_reason(t)
    return {
        "workflow": wf.name,
        "entity_table": wf.entity.table,
        "entity_id": entity_id,
        "tenant_id": tenant,
        "status": t.to_status,
        "step_key": t.step,
        "error_code": code,
        "error_message": message,
        "metadata": {**call.audit, **t.metadata},
        "correlation_id": call.context.correlation_id,
        "failed_at": now,
    }


_MOVED_BY = {
    HistoryKind.TIMER: "timer step",
    HistoryKind.REJECTED: "rejection path of step",
    HistoryKind.JANITOR: "janitor of step",
    HistoryKind.RELEASED: "release of step",
    HistoryKind.CLAIMED: "claim of step",
}
"""How a failure message names what moved the entity (otherwise: ``step``)."""


def failure_reason(t: Transition) -> tuple[str, str]:
    """The failure log's ``(error_code, error_message)`` of ``t``: never empty.

    A ``Result.fail(permanent=True)`` carries its own code and message. A step that simply
    leads into a failure status (a timer's expiry, an admin's "undeliverable", a
    rejection path, an observation) is recorded under the use case's own ``code``
    (``error_code`` or ``code`` in its metadata), else the step key (``observed`` for an
    observation); the message says what moved the entity there and why (its ``reason``).
    """
    meta = t.metadata
    own = meta.get("error_code") or meta.get("code")
    code = t.failure_code or (str(own) if own else None) or t.step or t.kind.value
    if t.failure_message:
        return code[:_CODE_LIMIT], t.failure_message
    if t.step is None:
        what = f"observation by {t.source}" if t.source else "observation"
    else:
        what = f"{_MOVED_BY.get(t.kind, 'step')} {t.step!r}"
    message = f"{what} moved it to failure status {t.to_status!r}"
    reason = meta.get("reason") or meta.get("message")
    return code[:_CODE_LIMIT], f"{message}: {reason}" if reason else message

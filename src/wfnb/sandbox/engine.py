"""The sandbox's engine: an ``Engine`` that copies each entity in before touching it.

Also what ``Sandbox`` prepares it with: the workflows (prototype use cases validated)
and every status they declare per entity table (the shadows accept them all).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from wfnb.engine import context as request_context
from wfnb.engine.core import Engine, WorkflowsLike
from wfnb.engine.explain import Explanation
from wfnb.engine.results import StepResult
from wfnb.exceptions import ConfigError
from wfnb.spec import Workflow, Workflows

if TYPE_CHECKING:
    from wfnb.sandbox.core import Sandbox

__all__ = ["SandboxEngine", "prototyped", "statuses_by_table"]


def _tenant(kw: Mapping[str, Any]) -> str | None:
    """The tenant an engine call runs as: its argument, else the current request context's."""
    tenant = kw.get("tenant_id")
    if tenant is None:
        outer = request_context.current()
        tenant = outer.tenant_id if outer is not None else None
    return tenant if tenant is None else str(tenant)


def statuses_by_table(workflows: Iterable[Workflow]) -> dict[str, dict[str, list[str]]]:
    """Entity table → status column → every status the workflows declare for it."""
    found: dict[str, dict[str, list[str]]] = {}
    for wf in workflows:
        column = found.setdefault(wf.entity.table, {}).setdefault(wf.entity.status_column, [])
        column.extend(s for s in wf.status_types if s not in column)
    return found


def prototyped(
    wfs: WorkflowsLike | None, use_cases: Mapping[str, Callable[..., Any]]
) -> WorkflowsLike:
    """The workflows, validated with ``use_cases`` resolving (ConfigError on any error)."""
    if wfs is None:
        return Workflows({})
    if isinstance(wfs, Workflows) or not use_cases:
        return wfs  # loaded already, or the engine validates them
    from wfnb.validation import validate  # noqa: PLC0415  # only for prototypes

    models = list(wfs.values()) if isinstance(wfs, Mapping) else list(wfs)
    report = validate(models, use_cases=use_cases)
    if not report.ok:
        raise ConfigError(report.problems)
    return Workflows({w.name: w for w in models})


class SandboxEngine(Engine):
    """An ``Engine`` that copies each entity into the sandbox before touching it.

    Only what the call's tenant may see is copied (the engine's own tenant filter), so a
    call as one tenant never brings another tenant's row into the sandbox.
    """

    sandbox: Sandbox

    def execute_step(self, workflow: str, entity_id: Any, *args: Any, **kw: Any) -> StepResult:
        """``Engine.execute_step`` on the sandbox's copy of the entity."""
        self.sandbox.include(workflow, [entity_id], tenant_id=_tenant(kw))
        try:
            return super().execute_step(workflow, entity_id, *args, **kw)
        finally:
            self.sandbox.called()

    def execute_batch(
        self, workflow: str, entity_ids: Sequence[Any], *args: Any, **kw: Any
    ) -> list[StepResult]:
        """``Engine.execute_batch`` on the sandbox's copies of the entities."""
        self.sandbox.include(workflow, entity_ids, tenant_id=_tenant(kw))
        try:
            return super().execute_batch(workflow, entity_ids, *args, **kw)
        finally:
            self.sandbox.called()

    def observe(self, workflow: str, entity_id: Any, *args: Any, **kw: Any) -> StepResult:
        """``Engine.observe`` on the sandbox's copy of the entity."""
        self.sandbox.include(workflow, [entity_id], tenant_id=_tenant(kw))
        try:
            return super().observe(workflow, entity_id, *args, **kw)
        finally:
            self.sandbox.called()

    def explain(self, workflow: str, entity_id: Any, *args: Any, **kw: Any) -> Explanation:
        """``Engine.explain`` on the sandbox's copy of the entity."""
        self.sandbox.include(workflow, [entity_id], tenant_id=kw.get("tenant_id"))
        try:
            return super().explain(workflow, entity_id, *args, **kw)
        finally:
            self.sandbox.called()

    def recover_claims(self, *, tenant_id: str | None = None) -> list[StepResult]:
        """``Engine.recover_claims`` over the entities in the sandbox (janitors see ``tables=``)."""
        self.sandbox._copy_tables(tenant_id)
        try:
            return super().recover_claims(tenant_id=tenant_id)
        finally:
            self.sandbox.called()

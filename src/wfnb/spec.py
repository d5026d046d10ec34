"""The workflow file format as frozen pydantic models (the contract of workflow-format.md).

These models check structure only: required fields, types, unknown fields, names and
ISO-8601 durations. Cross-references (a status that is not declared, a timer naming a
missing step, reachability, ...) are the validator's job (``wfnb.validation``), which
reports every problem at once with its code.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from functools import cached_property
from typing import Annotated, Any, TypeVar, cast

import isodate
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    StringConstraints,
    model_serializer,
)
from pydantic_core import PydanticCustomError

__all__ = [
    "ID_LENGTH",
    "NAME_LENGTH",
    "Claim",
    "Duration",
    "EntitySpec",
    "ObservedTransition",
    "Override",
    "Rejection",
    "Step",
    "Timer",
    "Workflow",
    "Workflows",
    "add_duration",
    "parse_duration",
]

DURATION_ERROR = "iso_duration"

NAME_LENGTH = 128
"""Most characters in a name the engine writes to history (workflow, entity table, status,
step, requester type, source, tenant and correlation ids): the width of those columns."""

ID_LENGTH = 255
"""Most characters in an entity or user id as history stores it."""
"""pydantic error type of a malformed duration; the validator maps it to WF111."""


def parse_duration(value: str) -> timedelta | isodate.Duration:
    """Parse an ISO-8601 duration (``PT10M``, ``P7D``, ``P1M``) with isodate.

    Calendar durations (months, years) come back as ``isodate.Duration``, which adds to a
    datetime correctly (``2026-01-31 + P1M`` is ``2026-02-28``).
    """
    try:
        parsed = isodate.parse_duration(value)
    except (isodate.ISO8601Error, ValueError, TypeError, OverflowError) as exc:
        raise PydanticCustomError(
            DURATION_ERROR,
            "malformed ISO-8601 duration '{value}'",
            {"value": value},
        ) from exc
    try:  # a duration that takes a moment past year 9999 can never be added to one
        zero = (datetime(2000, 1, 1) + parsed) - datetime(2000, 1, 1)
    except (OverflowError, ValueError) as exc:
        raise PydanticCustomError(
            DURATION_ERROR, "duration '{value}' is too long", {"value": value}
        ) from exc
    if zero <= timedelta(0):
        raise PydanticCustomError(
            DURATION_ERROR, "duration '{value}' must be positive", {"value": value}
        )
    return parsed


def add_duration(moment: datetime, value: str) -> datetime:
    """``moment + value`` for an ISO-8601 duration string, calendar-aware."""
    result = moment + parse_duration(value)
    assert isinstance(result, datetime)  # isodate.Duration + datetime is a datetime
    return result


def _check_duration(value: str) -> str:
    parse_duration(value)
    return value


Duration = Annotated[
    str, AfterValidator(_check_duration), Field(json_schema_extra={"format": "duration"})
]
"""An ISO-8601 duration kept as written (so files round-trip), checked on load."""

Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
NonEmpty = Annotated[str, StringConstraints(min_length=1)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class EntitySpec(_Model):
    """The user's entity table; its status column IS the workflow state."""

    table: NonEmpty
    id_column: NonEmpty = "id"
    status_column: NonEmpty = "status"
    version_column: NonEmpty = "version"
    tenant_column: NonEmpty | None = None


class Rejection(_Model):
    """Where a validation that rejects sends the entity, and what runs then."""

    state: NonEmpty
    action: NonEmpty | None = None


class Claim(_Model):
    """A transient status held while a non-idempotent action runs."""

    status: NonEmpty
    stale_after: Duration


class Override(_Model):
    """Fields of a step replaced for one requester type; an explicit null removes one."""

    # A field left out keeps the step's value; a field set to an explicit null removes the
    # step's optional value for that requester ("claim": null: no claim; "auto_advance":
    # null: the default, false). successful_state cannot be removed (WF104 in the
    # validator). Explicit nulls survive serialisation: they round-trip and count in
    # config_hash (docs/format-notes.md).

    validation: NonEmpty | None = None
    action: NonEmpty | None = None
    successful_state: NonEmpty | None = None
    rejection: Rejection | None = None
    auto_advance: bool | None = None
    claim: Claim | None = None

    @model_serializer(mode="wrap")
    def _explicit_nulls(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Unset fields never appear; fields set to null always do (they remove)."""
        data = cast("dict[str, Any]", handler(self))
        kept = {k: v for k, v in data.items() if v is not None or k in self.model_fields_set}
        for name in self.removed:
            kept[name] = None
        return kept

    @property
    def removed(self) -> frozenset[str]:
        """The fields this override sets to an explicit null (it removes them)."""
        return frozenset(n for n in self.model_fields_set if getattr(self, n) is None)


_REMOVED: dict[str, Any] = {"auto_advance": False}
"""What a step's field becomes when an override removes it (None unless listed)."""


class Step(_Model):
    """One way out of a status."""

    key: NonEmpty
    status: NonEmpty
    description: str | None = Field(
        default=None,
        description="One line for people: what the step does, shown before its use cases.",
    )
    requester_types: tuple[NonEmpty, ...] | None = None
    validation: NonEmpty | None = None
    action: NonEmpty | None = None
    successful_state: NonEmpty
    rejection: Rejection | None = None
    auto_advance: bool = False
    claim: Claim | None = None
    overrides: dict[NonEmpty, Override] = Field(default_factory=dict)

    def allows(self, requester_type: str) -> bool:
        """Whether ``requester_type`` may run this step (absent list = everyone)."""
        return self.requester_types is None or requester_type in self.requester_types

    def for_requester(self, requester_type: str) -> Step:
        """The step as ``requester_type`` sees it: its override applied, overrides dropped."""
        override = self.overrides.get(requester_type)
        if override is None:
            return self if not self.overrides else self.model_copy(update={"overrides": {}})
        changes = {k: v for k, v in override if v is not None}
        for name in override.removed - {"successful_state"}:  # a null removes (WF104 there)
            changes[name] = _REMOVED.get(name)
        return self.model_copy(update={**changes, "overrides": {}})


class ObservedTransition(_Model):
    """A transition that happens outside and is only recorded."""

    from_: NonEmpty = Field(alias="from")
    to: NonEmpty
    source: NonEmpty


class Timer(_Model):
    """Run ``step`` as ``requester_type`` once an entity has sat at ``status`` for ``after``."""

    key: NonEmpty
    status: NonEmpty
    after: Duration
    step: NonEmpty
    requester_type: NonEmpty


_AtStatus = TypeVar("_AtStatus", "Step", "Timer")


def _by_status(items: Iterable[_AtStatus]) -> dict[str, tuple[_AtStatus, ...]]:
    """``items`` grouped by their ``status``, each group in file order."""
    groups: dict[str, list[_AtStatus]] = {}
    for item in items:
        groups.setdefault(item.status, []).append(item)
    return {status: tuple(group) for status, group in groups.items()}


class _Links:
    """A base's tenants' configs, or a tenant config's base (``Workflow.with_tenants``).

    Compared by the configs' hashes, not the models: the two point at each other, and
    model equality (which compares private attributes) would otherwise never end.
    """

    __slots__ = ("base", "tenants")

    def __init__(
        self, *, base: Workflow | None = None, tenants: Mapping[str, Workflow] | None = None
    ) -> None:
        self.base = base
        self.tenants: Mapping[str, Workflow] = dict(tenants or {})

    def _meaning(self) -> tuple[str | None, tuple[tuple[str, str], ...]]:
        base = self.base.config_hash if self.base is not None else None
        return base, tuple(sorted((t, w.config_hash) for t, w in self.tenants.items()))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Links) and self._meaning() == other._meaning()

    def __hash__(self) -> int:
        return hash(self._meaning())


_NOT_MEANING: Any = {"status_descriptions": True, "steps": {"__all__": {"description"}}}
"""What ``canonical_json`` leaves out: the descriptions of steps and statuses."""


class Workflow(_Model):
    """One workflow file."""

    name: Name
    description: str | None = None
    owning_module: NonEmpty
    entity: EntitySpec
    use_cases: NonEmpty
    requester_types: tuple[NonEmpty, ...]
    system_requester_types: tuple[NonEmpty, ...] = Field(
        default=(),
        description=(
            "Optional: requester types (a subset of requester_types) that only a cron "
            "context (wfnb.cron) may run as; the engine refuses them elsewhere (WF209)."
        ),
    )
    status_types: tuple[NonEmpty, ...]
    initial_status: NonEmpty
    terminal_statuses: tuple[NonEmpty, ...]
    failure_statuses: tuple[NonEmpty, ...] = ()
    status_descriptions: dict[NonEmpty, str] = Field(
        default_factory=dict,
        description="Optional: one line for people per status (a subset of status_types).",
    )
    steps: tuple[Step, ...]
    observed_transitions: tuple[ObservedTransition, ...] = ()
    timers: tuple[Timer, ...] = ()

    _source_file: str | None = PrivateAttr(default=None)
    _config_rev: str | None = PrivateAttr(default=None)
    _tenant: str | None = PrivateAttr(default=None)
    _overlay_file: str | None = PrivateAttr(default=None)
    _links: _Links | None = PrivateAttr(default=None)

    # Read through ``__pydantic_private__``: ``self._x`` goes through ``BaseModel.__getattr__``,
    # a cost every history row paid for ``config_rev``.
    @property
    def source_file(self) -> str | None:
        """The file this workflow was read from, when it came from one."""
        return cast("str | None", (self.__pydantic_private__ or {}).get("_source_file"))

    @property
    def config_rev(self) -> str | None:
        """The git commit the file was read at (``+dirty`` when the work tree differs)."""
        return cast("str | None", (self.__pydantic_private__ or {}).get("_config_rev"))

    def with_origin(self, source_file: str | None, config_rev: str | None) -> Workflow:
        """A copy that remembers where it was read from (the loader calls this)."""
        copy = self.model_copy()
        copy._source_file = source_file
        copy._config_rev = config_rev
        return copy

    @property
    def tenant(self) -> str | None:
        """The tenant this config is merged for (its overlay applied); None for the base."""
        return cast("str | None", (self.__pydantic_private__ or {}).get("_tenant"))

    @property
    def overlay_file(self) -> str | None:
        """The tenant overlay file merged into this config, when it is a tenant's."""
        return cast("str | None", (self.__pydantic_private__ or {}).get("_overlay_file"))

    @property
    def base(self) -> Workflow:
        """The workflow as its own file says, without any tenant overlay (self for the base)."""
        links = cast("_Links | None", (self.__pydantic_private__ or {}).get("_links"))
        return links.base if links is not None and links.base is not None else self

    @property
    def tenant_configs(self) -> Mapping[str, Workflow]:
        """Tenant → the merged config of each tenant with an overlay (docs/tenant-overlays.md)."""
        links = cast("_Links | None", (self.base.__pydantic_private__ or {}).get("_links"))
        return links.tenants if links is not None else {}

    def for_tenant(self, tenant: str | None) -> Workflow:
        """The config ``tenant`` runs: its overlay merged in, or the base when it has none."""
        base = self.base
        if tenant is None:
            return base
        return base.tenant_configs.get(str(tenant), base)

    def with_tenants(self, merged: Mapping[str, Workflow]) -> Workflow:
        """A copy of this base that knows its tenants' merged configs (the loader calls this).

        Each merged config must come from ``wfnb.overlays.apply_overlay`` on this base.
        """
        copy = self.model_copy()
        copy._source_file, copy._config_rev = self.source_file, self.config_rev
        tenants: dict[str, Workflow] = {}
        for tenant, wf in merged.items():
            linked = wf.model_copy()
            linked._source_file, linked._config_rev = wf.source_file, wf.config_rev
            linked._tenant, linked._overlay_file = tenant, wf.overlay_file
            linked._links = _Links(base=copy)
            tenants[tenant] = linked
        copy._links = _Links(tenants=tenants)
        return copy

    def as_tenant(self, tenant: str, overlay_file: str) -> Workflow:
        """A copy marked as ``tenant``'s merged config read from ``overlay_file``."""
        copy = self.model_copy()
        copy._source_file, copy._config_rev = self.source_file, self.config_rev
        copy._tenant, copy._overlay_file = tenant, overlay_file
        return copy

    def canonical_json(self) -> str:
        """Sorted, compact JSON of the workflow's meaning (defaults left out).

        Leaving defaults out keeps the hash stable when a file spells out a default, and
        when the format later gains optional fields. Step and status descriptions are
        words for people, not behaviour: editing them makes no new config version.
        """
        data = self.model_dump(
            mode="json", by_alias=True, exclude_defaults=True, exclude=_NOT_MEANING
        )
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    @cached_property
    def config_hash(self) -> str:
        """sha256 of the canonical JSON: the version stamped on every history row."""
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()

    @cached_property
    def _steps_by_key(self) -> dict[str, Step]:
        return {s.key: s for s in self.steps}

    @cached_property
    def _views(self) -> dict[tuple[str, str], tuple[Step, ...]]:
        return {}

    @cached_property
    def _timers_by_status(self) -> dict[str, tuple[Timer, ...]]:
        return _by_status(self.timers)

    @cached_property
    def _steps_by_status(self) -> dict[str, tuple[Step, ...]]:
        return _by_status(self.steps)

    @cached_property
    def claim_statuses(self) -> frozenset[str]:
        """Every status some step (or override) uses as its claim status."""
        claims = {s.claim.status for s in self.steps if s.claim}
        claims |= {o.claim.status for s in self.steps for o in s.overrides.values() if o.claim}
        return frozenset(claims)

    def step(self, key: str) -> Step | None:
        """The step with that key, if any."""
        return self._steps_by_key.get(key)

    def steps_at(self, status: str) -> tuple[Step, ...]:
        """Every step declared at ``status``, in file order."""
        return self._steps_by_status.get(status, ())

    def steps_for(self, status: str, requester_type: str) -> tuple[Step, ...]:
        """The steps at ``status`` that ``requester_type`` may run, as it sees them.

        In file order, each with its override for ``requester_type`` applied
        (``Step.for_requester``). Worked out once per declared (status, requester type)
        pair: the workflow is frozen, and a step's override view costs a model copy.
        """
        key = (status, requester_type)
        views = self._views.get(key)
        if views is None:
            views = tuple(
                s.for_requester(requester_type)
                for s in self.steps_at(status)
                if s.allows(requester_type)
            )
            if status in self._steps_by_status and requester_type in self.requester_types:
                self._views[key] = views  # declared names only: the cache stays bounded
        return views

    def timers_at(self, status: str) -> tuple[Timer, ...]:
        """Timers armed when an entity enters ``status``."""
        return self._timers_by_status.get(status, ())

    def is_terminal(self, status: str) -> bool:
        """Whether ``status`` is a terminal status."""
        return status in self.terminal_statuses

    def _repr_html_(self) -> str:
        from wfnb._html import workflow_html  # noqa: PLC0415  # display-only, kept out of import

        return workflow_html(self)

    def __repr__(self) -> str:
        tenant = f" as tenant {self.tenant!r}" if self.tenant else ""
        return (
            f"<Workflow {self.name!r}{tenant}: {len(self.status_types)} statuses, "
            f"{len(self.steps)} steps, {self.config_hash[:12]}>"
        )


class Workflows(Mapping[str, Workflow]):
    """Loaded workflows by name, read-only."""

    def __init__(self, workflows: Mapping[str, Workflow] | None = None) -> None:
        self._by_name: dict[str, Workflow] = dict(workflows or {})

    def __getitem__(self, name: str) -> Workflow:
        return self._by_name[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)

    def by_table(self, table: str) -> Workflow | None:
        """The workflow that writes ``table``'s status column, if any."""
        return next((w for w in self._by_name.values() if w.entity.table == table), None)

    def __repr__(self) -> str:
        return f"<Workflows {sorted(self._by_name)}>"

    def _repr_html_(self) -> str:
        from wfnb._html import workflows_html  # noqa: PLC0415  # display-only

        return workflows_html(self)


def schema() -> dict[str, Any]:
    """The JSON Schema of a workflow file (what ``wfnb schema`` prints and the package ships)."""
    out = Workflow.model_json_schema(by_alias=True, mode="validation")
    out["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    out["$id"] = "https://wfnb.dev/schema/workflow.schema.json"
    return out

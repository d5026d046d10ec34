"""Scenarios: who does what next at each status, how long they wait, and who arrives when.

A ``Scenario`` is plain data (frozen pydantic models, loadable from a dict or a JSON file):
per workflow and status, a list of weighted ``Action``s (a step, an observed transition,
or ``silence``, which lets timers decide), each with a delay distribution and payload
variants; plus ``Arrival``s, the entities created over the simulated period. Who acts
is data too: a workflow's ``actors`` name the person who acts on their own entity (the
member on their registration), and the scenario's ``staff`` are the people drawn for the
other requester types (the admins), so every human step carries a ``user_id``. Sampling
takes an explicit ``random.Random`` so a seed makes a run reproducible.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from functools import cached_property
from importlib import import_module
from pathlib import Path
from string import Formatter
from typing import Any, Literal

import isodate
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from wfnb.exceptions import WfnbUsageError
from wfnb.spec import parse_duration

__all__ = [
    "Action",
    "Arrival",
    "Delay",
    "Observe",
    "Scenario",
    "Staff",
    "Variant",
    "WorkflowScenario",
    "duration_of",
    "fill",
    "load_scenario",
    "resolve_ref",
]

_ANCHOR = datetime(2000, 1, 1)


def duration_of(value: str) -> timedelta:
    """An ISO-8601 duration as a ``timedelta`` (calendar months counted from 2000-01-01)."""
    parsed = parse_duration(value)
    return parsed.totimedelta(start=_ANCHOR) if isinstance(parsed, isodate.Duration) else parsed


def resolve_ref(ref: str) -> Callable[..., Any]:
    """Import ``package.module:function``.

    Raises:
        WfnbUsageError: the reference is malformed or does not name a callable.
    """
    module, _, name = ref.partition(":")
    try:
        found = getattr(import_module(module), name) if name else None
    except (ImportError, AttributeError) as exc:
        raise WfnbUsageError(f"cannot import {ref!r}: {exc}", value=ref) from exc
    if not callable(found):
        raise WfnbUsageError(f"{ref!r} is not a callable (use 'module:function')", value=ref)
    return found  # type: ignore[no-any-return]


def fill(value: Any, fields: Mapping[str, str]) -> Any:
    """``value`` with ``{id}``-style placeholders in its strings filled from ``fields``."""
    if isinstance(value, str):
        return value.format_map(fields) if "{" in value else value
    if isinstance(value, Mapping):
        return {k: fill(v, fields) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [fill(v, fields) for v in value]
    return value


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Delay(_Model):
    """How long after the entity reached its status the action happens.

    ``{"dist": "exponential", "mean": "P2D"}``, ``{"dist": "uniform", "min": "PT1H",
    "max": "P3D"}`` or ``{"dist": "fixed", "value": "PT2H"}``.
    """

    dist: Literal["exponential", "uniform", "fixed"] = "exponential"
    mean: str | None = None
    min: str | None = None
    max: str | None = None
    value: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> Delay:
        needed = {"exponential": ("mean",), "uniform": ("min", "max"), "fixed": ("value",)}
        for name in needed[self.dist]:
            raw = getattr(self, name)
            if raw is None:
                raise ValueError(f"a {self.dist} delay needs {name!r}")
            duration_of(raw)  # malformed or non-positive: a validation error here
        return self

    def sample(self, rng: random.Random) -> timedelta:
        """One delay, rounded to whole seconds (at least one)."""
        if self.dist == "fixed":
            assert self.value is not None
            return duration_of(self.value)
        if self.dist == "uniform":
            assert self.min is not None
            assert self.max is not None
            low, high = duration_of(self.min), duration_of(self.max)
            seconds = rng.uniform(low.total_seconds(), high.total_seconds())
        else:
            assert self.mean is not None
            seconds = rng.expovariate(1.0 / duration_of(self.mean).total_seconds())
        return timedelta(seconds=max(1, round(seconds)))


class Variant(_Model):
    """One payload an action may carry, with its weight among the action's variants."""

    weight: float = Field(default=1.0, gt=0)
    data: dict[str, Any] = Field(default_factory=dict)


class Observe(_Model):
    """An observed transition to report: where to and which source saw it."""

    to: str
    source: str


class Action(_Model):
    """One possible next event at a status: a step, an observation, or silence."""

    requester_type: str | None = None
    step: str | None = None
    observe: Observe | None = None
    silence: bool = False
    probability: float = Field(default=1.0, ge=0)
    delay: Delay = Field(default_factory=lambda: Delay(dist="exponential", mean="P1D"))
    payload: tuple[Variant, ...] = ()
    batch: bool = False
    """Run together (``execute_batch``) with same-step actions falling due at the same moment."""

    @field_validator("payload", mode="before")
    @classmethod
    def _variants(cls, value: Any) -> Any:
        # A bare dict is the one payload; a list holds weighted variants.
        return [{"data": value}] if isinstance(value, Mapping) else value

    @model_validator(mode="after")
    def _one_kind(self) -> Action:
        kinds = [self.step is not None, self.observe is not None, self.silence]
        if sum(kinds) != 1:
            raise ValueError("an action is exactly one of: step, observe, silence")
        if self.step is not None and self.requester_type is None:
            raise ValueError(f"step {self.step!r} needs a requester_type")
        return self

    @property
    def kind(self) -> str:
        """``step``, ``observe`` or ``silence``."""
        return "step" if self.step else "observe" if self.observe else "silence"

    def sample_payload(self, rng: random.Random) -> dict[str, Any]:
        """One of the payload variants (by weight), or an empty payload."""
        if not self.payload:
            return {}
        if len(self.payload) == 1:
            return dict(self.payload[0].data)
        chosen = rng.choices(self.payload, weights=[v.weight for v in self.payload])[0]
        return dict(chosen.data)


class WorkflowScenario(_Model):
    """The actions of one workflow, by status; statuses absent here are silent."""

    statuses: dict[str, tuple[Action, ...]] = Field(default_factory=dict)
    on_enter: dict[str, str] = Field(default_factory=dict)
    """Status -> ``module:function`` called as ``hook(sim, entity_id)`` on entering it."""
    actors: dict[str, str] = Field(default_factory=dict)
    """Requester type -> the ``user_id`` of whoever acts as it on this entity, a template
    over the entity's fields (``{id}``, ``{tenant}`` and what its factory inserted):
    ``{"user": "{id}"}`` makes a member the user of their own registration's steps."""

    def actors_of(self, fields: Mapping[str, Any]) -> dict[str, str]:
        """Requester type -> user id for one entity; a template whose field is empty drops out.

        Raises:
            WfnbUsageError: a template names a field the entity does not have.
        """
        found: dict[str, str] = {}
        for requester, template in self.actors.items():
            names = _fields_of(template)
            unknown = [name for name in names if name not in fields]
            if unknown:
                raise WfnbUsageError(
                    f"actor template {template!r} names {unknown[0]!r}; the entity has "
                    f"{', '.join(sorted(fields))}",
                    value=template,
                )
            if all(fields[name] is not None and fields[name] != "" for name in names):
                found[requester] = template.format_map(fields)
        return found

    def choose(
        self, status: str, rng: random.Random, usable: Callable[[Action], bool]
    ) -> Action | None:
        """The next action at ``status`` (``None``: silence or nothing declared).

        Probabilities are weights; if they add up to less than 1 the rest is silence.
        Actions ``usable`` refuses (a step the running config lacks) drop out.
        """
        actions = [a for a in self.statuses.get(status, ()) if a.silence or usable(a)]
        total = sum(a.probability for a in actions)
        if not actions or total <= 0:
            return None
        draw = rng.random() * max(total, 1.0)
        for action in actions:
            draw -= action.probability
            if draw < 0:
                return None if action.silence else action
        return None


class Arrival(_Model):
    """Entities of a workflow created over the simulated period.

    ``count`` entities arrive at uniformly random moments of the period, or, with
    ``every``, at ``start + k * every`` (a calendar: one billing period a month).
    ``factory`` (``module:function``) inserts one: ``factory(conn, entity_id=...,
    tenant_id=..., at=..., values=...)`` returning the values it inserted; without one
    a bare row (id, status, version, tenant) is inserted into the entity table.
    """

    workflow: str
    count: int = Field(ge=0)
    every: str | None = None
    factory: str | None = None
    values: dict[str, Any] = Field(default_factory=dict)
    tenants: dict[str, float] = Field(default_factory=dict)
    id_prefix: str | None = None

    def tenant(self, rng: random.Random) -> str | None:
        """A tenant drawn by weight (None when the arrival names none)."""
        if not self.tenants:
            return None
        names = sorted(self.tenants)
        return rng.choices(names, weights=[self.tenants[n] for n in names])[0]

    def moments(self, start: datetime, until: datetime, rng: random.Random) -> list[datetime]:
        """When the entities arrive, sorted."""
        if self.every is not None:
            step = parse_duration(self.every)
            out = [start + step * k for k in range(self.count)]
            return [m for m in out if m < until]
        span = (until - start).total_seconds()
        return sorted(
            start + timedelta(seconds=round(rng.uniform(0, span))) for _ in range(self.count)
        )


def _fields_of(template: str) -> list[str]:
    """The field names a ``str.format`` template refers to."""
    return [name for _, name, _, _ in Formatter().parse(template) if name]


class Staff(_Model):
    """A person who acts as ``requester_type`` (an admin) on entities of ``tenants``.

    ``id`` is written to ``workflow_history.user_id``; ``tenants`` empty means every
    tenant; among the people who may act on an entity one is drawn by ``weight``.
    """

    id: str = Field(min_length=1)
    requester_type: str
    tenants: tuple[str, ...] = ()
    weight: float = Field(default=1.0, gt=0)


class Scenario(_Model):
    """What every simulated entity may do, who arrives when, and who acts."""

    workflows: dict[str, WorkflowScenario] = Field(default_factory=dict)
    arrivals: tuple[Arrival, ...] = ()
    staff: tuple[Staff, ...] = ()
    """The people drawn for a requester type no workflow ``actors`` template covers."""

    def pick_staff(self, requester_type: str, tenant: str | None, rng: random.Random) -> str | None:
        """A staff member who may act as ``requester_type`` for ``tenant`` (None: nobody).

        People of the tenant come first; an entity without a tenant (or a tenant nobody
        is assigned to) is handled by whoever acts as that requester type.
        """
        able = [s for s in self.staff if s.requester_type == requester_type]
        local = [s for s in able if not s.tenants or (tenant is not None and tenant in s.tenants)]
        pool = local or able
        if not pool:
            return None
        if len(pool) == 1:
            return pool[0].id
        return rng.choices(pool, weights=[s.weight for s in pool])[0].id

    @cached_property
    def hooks(self) -> dict[tuple[str, str], Callable[..., Any]]:
        """``(workflow, status) -> hook``, imported."""
        return {
            (name, status): resolve_ref(ref)
            for name, ws in self.workflows.items()
            for status, ref in ws.on_enter.items()
        }

    def scaled(self, counts: Mapping[str, int]) -> Scenario:
        """A copy whose arrivals of the named workflows have the given counts."""
        arrivals = [
            a.model_copy(update={"count": counts[a.workflow]}) if a.workflow in counts else a
            for a in self.arrivals
        ]
        return self.model_copy(update={"arrivals": tuple(arrivals)})

    def check_against(self, names: Sequence[str]) -> None:
        """Raise ``WfnbUsageError`` when the scenario names a workflow not loaded."""
        unknown = sorted(({*self.workflows} | {a.workflow for a in self.arrivals}) - set(names))
        if unknown:
            raise WfnbUsageError(
                f"scenario names workflows that are not loaded: {', '.join(unknown)}",
                value=unknown,
            )


def load_scenario(source: Scenario | Mapping[str, Any] | str | Path) -> Scenario:
    """A ``Scenario`` from a model, a dict, or a JSON file."""
    if isinstance(source, Scenario):
        return source
    if isinstance(source, str | Path):
        return Scenario.model_validate(json.loads(Path(source).read_text(encoding="utf-8")))
    return Scenario.model_validate(dict(source))

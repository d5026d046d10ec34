"""The energy-community example: members, sharing groups, invoices and billing periods.

Each workflow's use cases live in one module (``registration``, ``sharing``,
``invoicing``, ``billing``); ``schema`` holds the tables and entity factories. Every
owning module has a claim janitor, listed in :data:`JANITORS` for
``Engine.register_janitor``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module

from wfnb.engine.usecases import Result, StepContext

__all__ = ["JANITORS", "janitors"]

JANITORS: Mapping[str, str] = {
    "identity": "wfnb.examples.energy.membership:identity_janitor",
    "sharing": "wfnb.examples.energy.sharing:sharing_janitor",
    "invoicing": "wfnb.examples.energy.invoicing:invoicing_janitor",
    "billing": "wfnb.examples.energy.billing:billing_janitor",
}
"""Owning module (the workflow files' ``owning_module``) -> its janitor, as ``module:function``."""


def janitors() -> dict[str, Callable[[StepContext], Result]]:
    """The janitors by owning module, imported, ready for ``Engine.register_janitor``."""
    out: dict[str, Callable[[StepContext], Result]] = {}
    for owner, ref in JANITORS.items():
        module, name = ref.split(":")
        out[owner] = getattr(import_module(module), name)
    return out

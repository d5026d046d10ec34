"""Use-case resolution: names in a workflow become functions, imported once and cached.

A plain name is looked up in the workflow's ``use_cases`` module; ``package.module:function``
points elsewhere. ``override`` replaces one name (dry-runs, the ``%%wfnb_usecase`` magic).
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import Any

from wfnb.spec import Workflow

__all__ = ["UseCaseRegistry"]

UseCaseFn = Callable[..., Any]


class UseCaseRegistry:
    """Resolves and caches use-case functions by (module, name)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], UseCaseFn] = {}
        self._overrides: dict[tuple[str, str], UseCaseFn] = {}
        self._lock = threading.Lock()

    @staticmethod
    def address(workflow: Workflow, name: str) -> tuple[str, str]:
        """``(module, function)`` that ``name`` means in ``workflow``."""
        if ":" in name:
            module, _, function = name.partition(":")
            return module, function
        return workflow.use_cases, name

    def resolve(self, workflow: Workflow, name: str) -> UseCaseFn:
        """The function ``name`` means in ``workflow``.

        Raises:
            ImportError, AttributeError, TypeError: the name does not resolve to a callable
            (the validator reports this as WF105 before start-up; at run time the engine
            turns it into WF206).
        """
        key = self.address(workflow, name)
        fn = self._overrides.get(key) or self._cache.get(key)
        if fn is not None:
            return fn
        found = getattr(importlib.import_module(key[0]), key[1])
        if not callable(found):
            raise TypeError(f"use case {name!r} of {workflow.name!r} is not callable")
        with self._lock:
            self._cache[key] = found
        return found  # type: ignore[no-any-return]

    def override(self, workflow: Workflow, name: str, fn: UseCaseFn | None) -> None:
        """Make ``name`` mean ``fn`` for ``workflow`` (``None`` removes the override)."""
        key = self.address(workflow, name)
        with self._lock:
            if fn is None:
                self._overrides.pop(key, None)
            else:
                self._overrides[key] = fn

    def clear(self) -> None:
        """Forget resolved functions (after reloading a use-case module)."""
        with self._lock:
            self._cache.clear()

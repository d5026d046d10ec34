"""WF105: every use case a workflow names resolves to a callable in an importable module.

A plain name (``store_documents``) is looked up in the workflow's ``use_cases`` module; a name
of the form ``package.module:function`` points elsewhere. Modules are imported with
``importlib`` once per ``validate`` call (the ``UseCaseResolver`` caches successes and
failures alike), so a hundred workflows sharing a module cost one import, and a module that
fails to import is reported once per workflow (at ``/use_cases``, or at the first name that
points into it), with the exception's one-line message.

A name the caller supplies a callable for (``validate(..., use_cases={name: fn})``: a
prototype registered in a notebook with ``%%wfnb_usecase``, the ones a dry-run is given)
resolves to it, wherever the module would have looked.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterator, Mapping
from types import ModuleType

from wfnb.problems import Problem
from wfnb.spec import Override, Step, Workflow
from wfnb.validation.context import Checked
from wfnb.validation.references import Path

__all__ = ["UseCaseResolver", "check_use_cases", "use_case_references"]

_DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*\Z")
_MISSING = object()


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}"[:300] if text else type(exc).__name__


class UseCaseResolver:
    """Imports use-case modules at most once, and resolves names in them.

    Args:
        given: name → callable: these names resolve without an import (prototypes).
    """

    def __init__(self, given: Mapping[str, Callable[..., object]] | None = None) -> None:
        self._modules: dict[str, ModuleType | str] = {}
        self._names: dict[tuple[str, str], str | None] = {}
        self.given = {name: fn for name, fn in (given or {}).items() if callable(fn)}

    def module(self, name: str) -> ModuleType | str:
        """The module, or the one-line reason it cannot be imported."""
        found = self._modules.get(name)
        if found is None:
            found = self._modules[name] = self._import(name)
        return found

    @staticmethod
    def _import(name: str) -> ModuleType | str:
        if not _DOTTED.match(name):
            return f"{name!r} is not a module name"
        try:
            return importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001  # user code may raise anything while importing
            return f"cannot import use-case module {name!r}: {_one_line(exc)}"

    def problem_with(self, home_name: str, name: str) -> str | None:
        """Why ``name`` does not resolve (None when it does), relative to module ``home_name``.

        A name in a home module that failed to import is not reported again (its import is).
        """
        if name in self.given:
            return None
        key = (home_name, name)
        if key not in self._names:
            self._names[key] = self._resolve(self.module(home_name), name)
        return self._names[key]

    def _resolve(self, home: ModuleType | str, name: str) -> str | None:
        if ":" in name:
            module_name, _, attribute = name.partition(":")
            target = self.module(module_name)
            if isinstance(target, str):
                return f"use case {name!r}: {target}"
        elif isinstance(home, str):
            return None
        else:
            target, attribute = home, name
        if not _DOTTED.match(attribute):
            return f"use case {name!r}: {attribute!r} is not a Python name"
        found: object = target
        for part in attribute.split("."):
            found = getattr(found, part, _MISSING)
            if found is _MISSING:
                return f"use case {name!r} not found in module {target.__name__!r}"
        if not callable(found):
            kind = type(found).__name__
            return f"use case {name!r} in module {target.__name__!r} is a {kind}, not callable"
        return None


def _parts(step: Step) -> Iterator[tuple[tuple[str, ...], Step | Override]]:
    yield (), step
    for requester, override in step.overrides.items():
        yield ("overrides", requester), override


def use_case_references(wf: Workflow) -> Iterator[tuple[Path, str]]:
    """``(path, name)`` of every use case the workflow names."""
    for i, step in enumerate(wf.steps):
        for prefix, part in _parts(step):
            if part.validation is not None:
                yield ("steps", i, *prefix, "validation"), part.validation
            if part.action is not None:
                yield ("steps", i, *prefix, "action"), part.action
            if part.rejection is not None and part.rejection.action is not None:
                yield ("steps", i, *prefix, "rejection", "action"), part.rejection.action


def check_use_cases(c: Checked, resolver: UseCaseResolver) -> Iterator[Problem]:
    """WF105: the ``use_cases`` module imports, and each named use case is a callable."""
    home_name = c.workflow.use_cases
    home = resolver.module(home_name)
    failed: set[str] = set()  # modules whose import failure this workflow already reported
    if isinstance(home, str):
        failed.add(home_name)
        yield c.problem("WF105", "/use_cases", home)
    for path, name in use_case_references(c.workflow):
        if name in resolver.given:
            continue
        module_name = name.partition(":")[0] if ":" in name else None
        if module_name is not None and isinstance(resolver.module(module_name), str):
            if module_name in failed:
                continue
            failed.add(module_name)
        message = resolver.problem_with(home_name, name)
        if message is not None:
            yield c.problem("WF105", c.at(*path), message)

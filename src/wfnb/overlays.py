"""Tenant overlays: one tenant's durations, use cases and per-requester values for a workflow.

An overlay is a JSON object in ``<folder>/tenants/<tenant>/<workflow>.json`` beside the
workflow files (format: docs/tenant-overlays.md; rules: docs/adr/0105-tenant-overlays.md).
It may set the workflow's ``use_cases`` module, a timer's ``after``, a step's
``validation`` / ``action`` / ``auto_advance``, and those three in a step's per-requester
``overrides``; an explicit null removes an optional field as it does in a requester's
override. Statuses, steps, who may run them and where they lead stay the base's: such a
field is WF114, an unknown field WF101, an unknown timer, step or workflow WF114, an
undeclared requester type WF104, a bad duration WF111, a tenant folder or overlay file that
is a symbolic link WF100 (refused unread: it could lead anywhere). ``apply_overlay`` never
raises on a bad overlay: it returns the problems, each naming the overlay file and its JSON pointer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import PydanticCustomError

from wfnb.loader import Source, SourceLike, git_files, read_document
from wfnb.problems import Problem, Severity, pointer
from wfnb.spec import NAME_LENGTH, Override, Step, Timer, Workflow, parse_duration

__all__ = [
    "OVERLAY_FOLDER",
    "OverlaySource",
    "apply_overlay",
    "merged_at_revision",
    "overlay_sources",
]

OVERLAY_FOLDER = "tenants"
"""The sub-folder of a workflow folder that holds one folder of overlays per tenant."""

_TOP = {"description", "use_cases", "steps", "timers"}
_STEP = {"validation", "action", "auto_advance", "overrides"}
_REQUESTER = {"validation", "action", "auto_advance"}
_FIXED_TOP = {f.alias or n for n, f in Workflow.model_fields.items()} - _TOP
_FIXED_STEP = set(Step.model_fields) - _STEP
_FIXED_REQUESTER = set(Override.model_fields) - _REQUESTER
_FIXED_TIMER = set(Timer.model_fields) - {"after"}
_At = tuple[str, ...]
_WHY_FIXED = "an overlay changes what runs and when, never where an entity can go"


class OverlaySource:
    """One overlay document before merging: which tenant, which workflow, its source."""

    def __init__(self, tenant: str, workflow: str, source: Source) -> None:
        self.tenant, self.workflow, self.source = tenant, workflow, source


def overlay_sources(sources: SourceLike | Iterable[SourceLike]) -> list[OverlaySource]:
    """The overlays under each folder given: ``<folder>/tenants/<tenant>/<workflow>.json``."""
    if isinstance(sources, str | Path | Mapping | Workflow):
        sources = [sources]
    out: list[OverlaySource] = []
    seen: set[Path] = set()  # a folder given twice is read once
    for item in sources:
        if not isinstance(item, str | Path):
            continue
        try:
            root = (Path(item) / OVERLAY_FOLDER).resolve()
            fresh = root not in seen and root.is_dir()
            entries = sorted(root.iterdir()) if fresh else []
            seen.add(root)
        except (OSError, ValueError, RuntimeError):
            continue  # the folder itself is the loader's to report
        for folder in entries:
            if folder.is_symlink():  # it could lead anywhere (tenants/etc -> /etc)
                out.append(OverlaySource(folder.name, "", _linked(folder, "a tenant folder")))
            elif folder.is_dir():
                for f in sorted(folder.glob("*.json")):
                    linked = f.is_symlink()
                    source = _linked(f, "an overlay file") if linked else _read(f)
                    out.append(OverlaySource(folder.name, f.stem, source))
    return out


def _linked(path: Path, what: str) -> Source:
    """A symbolic link where a tenant folder or overlay file belongs: refused, never read."""
    reason = f"a symbolic link; {what} must not be a link (it could lead anywhere)"
    return Source(file=str(path), data={"__unreadable__": reason})


def _read(f: Path) -> Source:
    if not f.is_file():  # a FIFO or a device would block the read, or never end
        return Source(file=str(f), data={"__unreadable__": "not a regular file"})
    try:
        return Source(file=str(f), text=f.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return Source(file=str(f), data={"__unreadable__": str(exc)})


class _Merge:
    """The base's document with one overlay applied, and the problems found doing it."""

    def __init__(self, base: Workflow, file: str) -> None:
        self.base, self.file = base, file
        self.doc: dict[str, Any] = base.model_dump(mode="json", by_alias=True)
        self.problems: list[Problem] = []

    def bad(self, code: str, where: tuple[str, ...], message: str) -> None:
        self.problems.append(
            Problem(code, Severity.ERROR, self.file, pointer(*where), message, self.base.name)
        )

    def unknown_or_fixed(self, key: str, where: tuple[str, ...], fixed: set[str]) -> None:
        if key in fixed:
            self.bad("WF114", where, f"{key!r} cannot be changed by a tenant overlay: {_WHY_FIXED}")
        else:
            self.bad("WF101", where, f"unknown field {key!r}")

    def obj(self, value: Any, where: tuple[str, ...]) -> Mapping[str, Any] | None:
        if isinstance(value, Mapping):
            return value
        self.bad("WF101", where, f"expected an object, got {type(value).__name__}")
        return None

    def use_case(self, target: dict[str, Any], key: str, value: Any, where: _At) -> None:
        if value is None or (isinstance(value, str) and value):
            target[key] = value
        else:
            self.bad("WF101", where, f"expected a use-case name or null, got {value!r}"[:300])

    def flag(self, target: dict[str, Any], value: Any, where: tuple[str, ...]) -> None:
        if value is None or isinstance(value, bool):
            target["auto_advance"] = value
        else:
            self.bad("WF101", where, f"expected true, false or null, got {value!r}"[:300])

    def top(self, overlay: Mapping[str, Any]) -> None:
        for key, value in overlay.items():
            if key == "description":
                if not (value is None or isinstance(value, str)):
                    self.bad("WF101", (key,), f"expected a string, got {value!r}"[:300])
            elif key == "use_cases":
                if value is None:
                    message = "'use_cases' is required: an overlay cannot remove it"
                    self.bad("WF114", (key,), message)
                else:
                    self.use_case(self.doc, key, value, (key,))
            elif key == "timers":
                self.timers(self.obj(value, (key,)) or {})
            elif key == "steps":
                self.steps(self.obj(value, (key,)) or {})
            else:
                self.unknown_or_fixed(key, (key,), _FIXED_TOP)

    def timers(self, timers: Mapping[str, Any]) -> None:
        by_key = {t["key"]: t for t in self.doc["timers"]}
        for key, value in timers.items():
            where = ("timers", key)
            timer = by_key.get(key)
            if timer is None:
                known = ", ".join(sorted(by_key)) or "none"
                message = f"no timer {key!r} in {self.base.name!r} (timers: {known})"
                self.bad("WF114", where, message)
                continue
            for field, given in (self.obj(value, where) or {}).items():
                if field != "after":
                    self.unknown_or_fixed(field, (*where, field), _FIXED_TIMER)
                elif not isinstance(given, str):
                    message = "'after' is required: an overlay cannot remove it"
                    if given is not None:
                        message = f"expected an ISO-8601 duration, got {given!r}"[:300]
                    self.bad("WF114" if given is None else "WF111", (*where, field), message)
                else:
                    try:
                        parse_duration(given)
                    except PydanticCustomError as exc:
                        self.bad("WF111", (*where, field), str(exc))
                        continue
                    timer["after"] = given

    def steps(self, steps: Mapping[str, Any]) -> None:
        by_key = {s["key"]: s for s in self.doc["steps"]}
        for key, value in steps.items():
            where = ("steps", key)
            step = by_key.get(key)
            if step is None:
                self.bad("WF114", where, f"no step {key!r} in {self.base.name!r}")
                continue
            for field, given in (self.obj(value, where) or {}).items():
                if field in ("validation", "action"):
                    self.use_case(step, field, given, (*where, field))
                elif field == "auto_advance":
                    self.flag(step, given, (*where, field))
                elif field == "overrides":
                    self.overrides(step, self.obj(given, (*where, field)) or {}, where)
                else:
                    self.unknown_or_fixed(field, (*where, field), _FIXED_STEP)

    def overrides(self, step: dict[str, Any], given: Mapping[str, Any], at: _At) -> None:
        for requester, value in given.items():
            where = (*at, "overrides", requester)
            if requester not in self.base.requester_types:
                declared = ", ".join(self.base.requester_types)
                message = f"requester type {requester!r} is not declared (declared: {declared})"
                self.bad("WF104", where, message)
                continue
            override = step["overrides"].setdefault(requester, {})
            for field, v in (self.obj(value, where) or {}).items():
                if field == "auto_advance":
                    self.flag(override, v, (*where, field))
                elif field in _REQUESTER:
                    self.use_case(override, field, v, (*where, field))
                else:
                    self.unknown_or_fixed(field, (*where, field), _FIXED_REQUESTER)


def apply_overlay(
    base: Workflow, overlay: Any, tenant: str, file: str = "<overlay>"
) -> tuple[Workflow | None, list[Problem]]:
    """``base`` with ``tenant``'s overlay merged in, or None and the overlay's problems.

    Only the overlay's own problems are found here; the merged config is then checked like
    any workflow (``wfnb.validation``), its problems named by the overlay file too.
    """
    merge = _Merge(base, file)
    if not tenant or len(tenant) > NAME_LENGTH:
        merge.bad("WF101", (), f"tenant folder name must be 1 to {NAME_LENGTH} characters")
    if merge.obj(overlay, ()) is not None:
        merge.top(overlay)
    if merge.problems:
        return None, merge.problems
    try:
        merged = Workflow.model_validate(merge.doc)
    except ValidationError as exc:  # the checks above should leave nothing for pydantic
        merge.bad("WF101", (), str(exc.errors()[0]["msg"]))
        return None, merge.problems
    return merged.with_origin(base.source_file, base.config_rev).as_tenant(tenant, file), []


def merged_at_revision(folder: Path, rev: str, bases: Iterable[Workflow]) -> list[Workflow]:
    """Each tenant's merged config of ``bases`` (read at ``rev``) from the overlays at ``rev``.

    Where older configs are found again (conformance): an overlay that does not merge at
    that revision is left out, as a workflow file that does not parse there is.
    """
    by_name = {wf.name: wf for wf in bases}
    out = []
    for source in git_files(folder / OVERLAY_FOLDER, rev):
        path = Path(source.file)
        base = by_name.get(path.stem)
        if base is None or path.suffix != ".json" or path.parent.parent.name != OVERLAY_FOLDER:
            continue
        data, problem = read_document(source, what="tenant overlay")
        if problem is None:
            merged, _ = apply_overlay(base, data, path.parent.name, source.file)
            out.extend([merged] if merged is not None else [])
    return out

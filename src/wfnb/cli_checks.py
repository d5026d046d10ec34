"""Checks of the command line's inputs, made before any command reads or writes anything.

Each bad input becomes one coded line from the exception tree instead of a hang, a
traceback or the catch-all WF000: a workflow path that is a FIFO or a device (WF100), a
folder without a workflow file (WF100), a database that does not exist (WF300, and no
empty SQLite file left behind), a count or a duration out of range (WF400), an output
file that cannot be written (WF400), a scenario file that cannot be read (WF400). What
escapes the checks is still given its family's code by :func:`family_line`.
"""

from __future__ import annotations

import argparse
import json
import math
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wfnb.arguments import whole_type
from wfnb.exceptions import WfnbUsageError
from wfnb.workflow_files import check_workflow_paths, empty_folders, file_kind

if TYPE_CHECKING:
    from wfnb.simulation.scenario import Scenario

__all__ = [
    "check_output",
    "check_workflow_paths",
    "count",
    "database_to_fill",
    "days",
    "empty_folders",
    "existing_database",
    "family_line",
    "one_line",
    "positive",
    "read_input_file",
    "read_scenario",
    "seconds",
]


def existing_database(url: str) -> str:
    """``url`` once it names an existing, readable database (nothing is created).

    Raises:
        WfnbUsageError: not a usable URL (WF400).
        StoreError: no such database, or it cannot be read or reached (WF300).
    """
    from wfnb.store.urls import require_database  # noqa: PLC0415  # SQLAlchemy on use

    require_database(url)
    return url


def database_to_fill(url: str, *, create: bool) -> str:
    """``url`` for a command that writes: it must exist unless ``create`` allows a new one.

    A new SQLite file needs an existing folder; nothing is created here.

    Raises:
        WfnbUsageError: not a usable URL, or no folder for a new SQLite file (WF400).
        StoreError: the database does not exist (and may not be created) or cannot be
            read (WF300).
    """
    from wfnb.store.urls import parse_url, require_database, sqlite_file  # noqa: PLC0415

    path = sqlite_file(parse_url(url))
    if path is None or path.exists() or not create:
        require_database(url)
    elif not path.parent.is_dir():
        raise WfnbUsageError(f"cannot create database {path}: no folder {path.parent}", value=url)
    return url


def check_output(path: str) -> Path:
    """A file the command may write: its folder exists and it is not a folder itself.

    Raises:
        WfnbUsageError: WF400 naming what is wrong.
    """
    target = Path(path)
    if target.is_dir():
        raise WfnbUsageError(f"cannot write {path}: it is a folder", value=path)
    if not target.parent.is_dir():
        raise WfnbUsageError(f"cannot write {path}: no folder {target.parent}", value=path)
    if target.exists() and not target.is_file():
        raise WfnbUsageError(f"cannot write {path}: not a regular file", value=path)
    return target


def read_input_file(path: str, what: str) -> str:
    """The UTF-8 text of a regular file the user named (a scenario, ...).

    Raises:
        WfnbUsageError: missing, not a regular file, unreadable or not UTF-8 (WF400).
    """
    target = Path(path)
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        raise WfnbUsageError(f"no such {what} file: {path}", value=path) from None
    except OSError as exc:
        raise WfnbUsageError(f"cannot read {what} {path}: {exc.strerror}", value=path) from None
    if not stat.S_ISREG(mode):
        raise WfnbUsageError(f"cannot read {what} {path}: {file_kind(mode)}", value=path)
    try:
        return target.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise WfnbUsageError(
            f"cannot read {what} {path}: not UTF-8 text (byte {exc.start})", value=path
        ) from None
    except OSError as exc:
        raise WfnbUsageError(f"cannot read {what} {path}: {exc.strerror}", value=path) from None


def count(text: str) -> int:
    """An argparse type: a whole number from 0 to ``MAX_WHOLE``."""
    return whole_type(0)(text)


def positive(text: str) -> int:
    """An argparse type: a whole number from 1 to ``MAX_WHOLE``."""
    return whole_type(1)(text)


def seconds(text: str) -> float:
    """An argparse type: a finite number of seconds, more than 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


def seconds_or_zero(text: str) -> float:
    """An argparse type: a finite number of seconds, 0 or more (0 turns a pass off)."""
    try:
        is_zero = float(text) == 0
    except ValueError:
        is_zero = False
    return 0.0 if is_zero else seconds(text)


def days(text: str) -> float:
    """An argparse type: a finite number of days, more than 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of days: {text!r}") from None
    if not math.isfinite(value) or value <= 0 or value > 365_000:
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most 365000, got {text}")
    return value


def read_scenario(path: str, wfs: Mapping[str, Any]) -> Scenario:
    """The scenario file, read and checked before any database is touched (WF400)."""
    import pydantic  # noqa: PLC0415

    from wfnb.simulation.scenario import Scenario  # noqa: PLC0415

    text = read_input_file(path, "scenario")
    try:
        scenario = Scenario.model_validate(json.loads(text))
    except (json.JSONDecodeError, RecursionError) as exc:
        raise WfnbUsageError(f"scenario {path} is not JSON: {exc}", value=path) from None
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the top level"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise WfnbUsageError(
            f"scenario {path} is not valid: {where}: {first['msg']}{more}", value=path
        ) from None
    scenario.check_against(list(wfs))
    return scenario


def one_line(exc: BaseException) -> str:
    """An exception's message on one line, without SQLAlchemy's background link."""
    text = str(exc).split("(Background on this error at:")[0]
    return " ".join(text.split())


def family_line(exc: Exception) -> str | None:
    """The coded line of an error that escaped the checks, by its family; None if unknown.

    Driver errors are WF300; a path the system refused, undecodable text, nesting too deep
    or a pydantic validation error is a bad input (WF400).
    """
    module = type(exc).__module__
    if module.startswith("sqlalchemy"):
        return f"WF300: database error: {type(exc).__name__}: {one_line(exc)}"
    if isinstance(exc, OSError):
        where = f" {exc.filename}" if exc.filename else ""
        return f"WF400: cannot use{where}: {exc.strerror or one_line(exc)}"
    if isinstance(exc, UnicodeError | RecursionError) or module.startswith("pydantic"):
        return f"WF400: bad input: {type(exc).__name__}: {one_line(exc)}"
    return None

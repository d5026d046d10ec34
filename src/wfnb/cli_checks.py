"""Checks of the command line's inputs, made before any command reads or writes anything.

Each bad input becomes one coded line from the exception tree instead of a hang, a
traceback or the catch-all WF000: a workflow path that is a FIFO or a device (WF100), a
folder without a workflow file (WF100), a database that does not exist (WF300, and no
empty SQLite file left behind), a count or a duration out of range (WF400), an output
file that cannot be written (WF400), a scenario file that cannot be read (WF400).
"""

from __future__ import annotations

import argparse
import math
import stat
from collections.abc import Sequence
from pathlib import Path

from wfnb.exceptions import ConfigError, WfnbUsageError
from wfnb.problems import Problem, Severity

__all__ = [
    "check_output",
    "check_workflow_paths",
    "count",
    "database_to_fill",
    "days",
    "empty_folders",
    "existing_database",
    "positive",
    "read_input_file",
]


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISDIR, "a folder"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def _mode(path: Path) -> int | None:
    try:
        return path.stat().st_mode
    except OSError:
        return None  # missing or unreadable: the loader reports it (WF100)


def check_workflow_paths(paths: Sequence[str]) -> None:
    """Refuse a workflow path (or a folder's ``*.json``) that is not a regular file.

    Reading a FIFO blocks forever and a device never ends, so they are refused unread.

    Raises:
        ConfigError: WF100, naming the file and what it is.
    """
    problems = []
    for given in map(Path, paths):
        mode = _mode(given)
        files = sorted(given.glob("*.json")) if mode and stat.S_ISDIR(mode) else [given]
        for f in files:
            file_mode = _mode(f)
            if file_mode is not None and not stat.S_ISREG(file_mode):
                message = f"cannot read workflow: {_kind(file_mode)}, not a regular file"
                problems.append(Problem("WF100", Severity.ERROR, str(f), "", message))
    if problems:
        raise ConfigError(problems)


def empty_folders(paths: Sequence[str]) -> list[Problem]:
    """A WF100 problem for each folder given that holds no workflow file (``*.json``)."""
    return [
        Problem("WF100", Severity.ERROR, p, "", "no workflow file (*.json) in this folder")
        for p in paths
        if Path(p).is_dir() and not any(Path(p).glob("*.json"))
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
        raise WfnbUsageError(f"cannot read {what} {path}: {_kind(mode)}", value=path)
    try:
        return target.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise WfnbUsageError(
            f"cannot read {what} {path}: not UTF-8 text (byte {exc.start})", value=path
        ) from None
    except OSError as exc:
        raise WfnbUsageError(f"cannot read {what} {path}: {exc.strerror}", value=path) from None


def count(text: str) -> int:
    """An argparse type: a whole number, 0 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def positive(text: str) -> int:
    """An argparse type: a whole number, 1 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def days(text: str) -> float:
    """An argparse type: a finite number of days, more than 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of days: {text!r}") from None
    if not math.isfinite(value) or value <= 0 or value > 365_000:
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most 365000, got {text}")
    return value

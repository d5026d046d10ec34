"""Which files a workflow path names, refusing anything that is not a regular file.

Reading a FIFO blocks forever and a device never ends: the command line and the magics
check every workflow path here before the loader reads it, and call a folder without a
workflow file a problem rather than an empty success.
"""

from __future__ import annotations

import stat
from collections.abc import Sequence
from pathlib import Path

from wfnb.exceptions import ConfigError, WfnbUsageError
from wfnb.problems import Problem, Severity

__all__ = ["check_workflow_paths", "empty_folders", "file_kind"]


def file_kind(mode: int) -> str:
    """What a non-regular file is, in words (from its ``st_mode``)."""
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
        WfnbUsageError: an empty path (it would silently mean the current folder).
        ConfigError: WF100, naming the file and what it is.
    """
    if any(not str(p).strip() for p in paths):
        raise WfnbUsageError("an empty workflow PATH: name a file or a folder")
    problems = []
    for given in map(Path, paths):
        mode = _mode(given)
        files = sorted(given.glob("*.json")) if mode and stat.S_ISDIR(mode) else [given]
        for f in files:
            file_mode = _mode(f)
            if file_mode is not None and not stat.S_ISREG(file_mode):
                message = f"cannot read workflow: {file_kind(file_mode)}, not a regular file"
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

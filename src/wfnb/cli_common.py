"""What every ``wfnb`` command shares: exit codes, and the workflows a command loads and names."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from wfnb.cli_checks import check_workflow_paths, empty_folders
from wfnb.exceptions import UnknownWorkflowError, WfnbUsageError
from wfnb.suggest import did_you_mean

if TYPE_CHECKING:
    from wfnb.spec import Workflow, Workflows

__all__ = [
    "DEFAULT_FOLDER",
    "EXIT_OK",
    "EXIT_PROBLEMS",
    "EXIT_USAGE",
    "PATHS_HELP",
    "TENANT_HELP",
    "Subparsers",
    "known_workflows",
    "load_workflows_at",
    "named",
    "one_of",
]

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2
Subparsers = argparse._SubParsersAction  # argparse names no public type

DEFAULT_FOLDER = "workflows"


def load_workflows_at(paths: Sequence[str]) -> Workflows:
    """The workflows at ``paths`` (default: ``workflows/`` here), validated."""
    from wfnb.exceptions import ConfigError  # noqa: PLC0415
    from wfnb.validation import load_workflows  # noqa: PLC0415

    if not paths:
        if not Path(DEFAULT_FOLDER).is_dir():
            raise WfnbUsageError(f"no workflow PATH given and no {DEFAULT_FOLDER}/ folder here")
        paths = [DEFAULT_FOLDER]
    check_workflow_paths(paths)
    empty = empty_folders(paths)
    if empty:
        raise ConfigError(empty)
    return load_workflows(list(paths))


def named(wfs: Workflows, name: str) -> Workflow:
    """The workflow ``name`` of ``wfs`` (WF200 naming the closest when there is none)."""
    if name not in wfs:
        known = ", ".join(sorted(wfs)) or "none"
        hint = did_you_mean(name, wfs)
        raise UnknownWorkflowError(
            f"unknown workflow {name!r}{hint} (loaded: {known})", workflow=name
        )
    return wfs[name]


def one_of(value: str | None, known: Sequence[str], missing: str) -> None:
    """A usage error naming the closest of ``known`` when ``value`` is not one of them."""
    if value is not None and value not in known:
        hint = did_you_mean(value, known)
        raise WfnbUsageError(f"{missing} {value!r}{hint} (known: {', '.join(known)})")


def known_workflows(paths: Sequence[str]) -> Workflows | None:
    """The workflows ``paths`` (or ``workflows/`` here) name, to check a ``--workflow`` filter.

    Only names matter here: workflows with config problems still count, and without any
    path or folder there is nothing to check against (None).
    """
    from wfnb.validation import validate  # noqa: PLC0415

    if not paths and not Path(DEFAULT_FOLDER).is_dir():
        return None
    from wfnb.exceptions import ConfigError  # noqa: PLC0415

    paths = list(paths) or [DEFAULT_FOLDER]
    check_workflow_paths(paths)
    empty = empty_folders(paths)
    if empty:  # WF100: nothing to check against, not "unknown workflow (loaded: )"
        raise ConfigError(empty)
    return validate(paths).workflows


PATHS_HELP = f"workflow JSON files or folders (default: {DEFAULT_FOLDER}/)"
TENANT_HELP = (
    "as this tenant runs it: its overlay (FOLDER/tenants/TENANT/NAME.json) merged in; "
    "a tenant without one runs the base"
)

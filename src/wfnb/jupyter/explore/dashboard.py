"""The dashboard's kernel side: the explorer over a read-only database, from the environment.

``wfnb dashboard`` (:mod:`wfnb.cli_dashboard`) copies templates/dashboard.ipynb into a
fresh folder and serves it with Voilà; the notebook's one code cell calls :func:`open_explorer`,
which reads what the command was given from ``WFNB_DASHBOARD_DB`` and
``WFNB_DASHBOARD_PATHS`` (os.pathsep-separated) and ``WFNB_DASHBOARD_WORKFLOW``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["DB_ENV", "PATHS_ENV", "TEMPLATE", "WORKFLOW_ENV", "open_explorer"]

DB_ENV = "WFNB_DASHBOARD_DB"
PATHS_ENV = "WFNB_DASHBOARD_PATHS"
WORKFLOW_ENV = "WFNB_DASHBOARD_WORKFLOW"
TEMPLATE = Path(__file__).with_name("templates") / "dashboard.ipynb"
"""The notebook Voilà serves (package data)."""


def open_explorer() -> Any:
    """The explorer over ``$WFNB_DASHBOARD_DB`` (read-only) and ``$WFNB_DASHBOARD_PATHS``."""
    from wfnb.jupyter.explore.widget import Explorer  # noqa: PLC0415
    from wfnb.store.readonly import readonly_engine  # noqa: PLC0415
    from wfnb.validation import load_workflows  # noqa: PLC0415

    paths = [p for p in os.environ.get(PATHS_ENV, "").split(os.pathsep) if p]
    wfs = load_workflows(paths)
    first = os.environ.get(WORKFLOW_ENV) or None
    return Explorer(readonly_engine(os.environ[DB_ENV]), wfs, first)

"""``wfnb dashboard``: the explorer as a read-only web app (Voilà), for people who write no code.

The packaged notebook (``wfnb/jupyter/explore/templates/dashboard.ipynb``) is copied into a
fresh folder and served by Voilà with its code cells hidden, on 127.0.0.1 by default and
behind a token (a request without it is refused, as JupyterLab refuses it). The kernel
opens the database read-only (:func:`wfnb.store.readonly.readonly_engine`). See
docs/adr/0130-explorer.md.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from wfnb.arguments import whole_type
from wfnb.cli_checks import existing_database
from wfnb.exceptions import WfnbUsageError

__all__ = ["add_dashboard_command", "cmd_dashboard", "dashboard_command"]


def add_dashboard_command(sub: Any, paths_help: str) -> None:
    """The ``dashboard`` subcommand."""
    p = sub.add_parser(
        "dashboard",
        help="serve the workflow explorer read-only in a browser (Voilà, token-protected)",
        description=(
            "Serve the workflow explorer as a web page with no code cells: click a status, "
            "an entity, hover an edge, toggle overlays. The database is opened read-only; "
            "the page needs the printed token."
        ),
    )
    p.add_argument("paths", nargs="*", default=[], help=paths_help)
    p.add_argument("--db", required=True, help="the database (SQLAlchemy URL); never written")
    p.add_argument("--workflow", help="the workflow to open with (default: the first by name)")
    p.add_argument("--port", type=whole_type(1), default=8866, help="TCP port (default 8866)")
    p.add_argument("--ip", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--token", help="the access token (default: a random one, printed)")


def dashboard_command(folder: Path, *, port: int, ip: str, token: str) -> list[str]:
    """The Voilà command line serving ``folder``'s dashboard.ipynb."""
    return [
        sys.executable, "-m", "voila", str(folder / "dashboard.ipynb"), "--no-browser",
        f"--port={port}", f"--Voila.ip={ip}", f"--Voila.token={token}",
        "--VoilaConfiguration.show_tracebacks=False", "--theme=light",
    ]  # fmt: skip


def cmd_dashboard(args: Any, default_paths: list[str]) -> int:
    """Run Voilà until interrupted; prints the URL with its token."""
    from wfnb.jupyter.explore.dashboard import (  # noqa: PLC0415
        DB_ENV,
        PATHS_ENV,
        TEMPLATE,
        WORKFLOW_ENV,
    )

    if shutil.which("voila") is None and not _has_voila():
        raise WfnbUsageError("the dashboard needs Voilà: pip install 'wfnb[jupyter]'")
    url = existing_database(args.db)
    paths = [str(Path(p).resolve()) for p in (args.paths or default_paths)]
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        raise WfnbUsageError(f"no workflow file or folder {missing[0]!r}: give workflow PATHs")
    from wfnb.validation import load_workflows  # noqa: PLC0415

    wfs = load_workflows(paths)  # a config problem is one coded line here, not a broken page
    if args.workflow is not None and args.workflow not in wfs:
        raise WfnbUsageError(f"no workflow {args.workflow!r} in {', '.join(paths)}")
    token = args.token or secrets.token_hex(16)
    with tempfile.TemporaryDirectory(prefix="wfnb-dashboard-") as tmp:
        folder = Path(tmp)
        shutil.copy(TEMPLATE, folder / "dashboard.ipynb")
        env = {**os.environ, DB_ENV: url, PATHS_ENV: os.pathsep.join(paths)}
        env[WORKFLOW_ENV] = args.workflow or ""
        print(f"wfnb dashboard: http://{args.ip}:{args.port}/?token={token}", flush=True)
        cmd = dashboard_command(folder, port=args.port, ip=args.ip, token=token)
        return subprocess.call(cmd, env=env, cwd=folder)


def _has_voila() -> bool:
    from importlib.util import find_spec  # noqa: PLC0415

    return find_spec("voila") is not None

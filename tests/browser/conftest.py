"""Debian's Chromium for the browser tests (where it is, its flags) and a JupyterLab server.

``lab_server`` starts JupyterLab on a free loopback port over a copy of notebooks/, with
its own config, data and runtime folders, and with scripts/jupyter-config on
``JUPYTER_CONFIG_PATH`` as scripts/lab has it (no "official Jupyter news?" toast).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts"
LAB_CONFIG = REPO / "scripts" / "jupyter-config"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # the closed network refuses Chromium's own calls
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def chromium() -> Path:
    """The browser; missing is a skip on a laptop and a failure in CI."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: run scripts/ensure-chromium (README command 2 does)"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    ARTIFACTS.mkdir(exist_ok=True)
    return CHROMIUM


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class LabServer:
    """A running JupyterLab: its base URL, token and notebook folder."""

    base: str
    token: str
    notebooks: Path

    def url(self, notebook: str) -> str:
        """The page that opens ``notebook`` in JupyterLab."""
        return f"{self.base}/lab/tree/{notebook}?token={self.token}"

    def alone(self, notebook: str) -> str:
        """``notebook`` in a fresh workspace of its own (no tab restored from an earlier page)."""
        name = notebook.rsplit(".", 1)[0].replace("_", "-")
        return f"{self.base}/lab/workspaces/{name}/tree/{notebook}?reset&token={self.token}"

    def api(self, path: str) -> Any:
        """GET ``/api/<path>`` as JSON."""
        with urllib.request.urlopen(f"{self.base}/api/{path}?token={self.token}", timeout=5) as r:
            return json.load(r)


@contextmanager
def lab_server(
    root: Path, settings: Mapping[str, Mapping[str, Any]] | None = None
) -> Iterator[LabServer]:
    """JupyterLab over a copy of notebooks/ under ``root``; stopped at the end.

    Args:
        root: an empty folder for the copy, the server's folders and its log.
        settings: user settings by plugin id (``"@jupyterlab/notebook-extension:tracker"``).
    """
    work = root / "notebooks"
    shutil.copytree(REPO / "notebooks", work, ignore=shutil.ignore_patterns("src", "*.html"))
    user_settings = root / "user-settings"
    for plugin, values in (settings or {}).items():
        package, _, name = plugin.partition(":")
        target = user_settings / package / f"{name}.jupyterlab-settings"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values), encoding="utf-8")
    port, token = free_port(), secrets.token_hex(12)
    env = {
        **os.environ,
        "JUPYTER_PLATFORM_DIRS": "1",
        "JUPYTER_CONFIG_DIR": str(root / "config"),
        "JUPYTER_CONFIG_PATH": str(LAB_CONFIG),
        "JUPYTER_RUNTIME_DIR": str(root / "runtime"),
        "JUPYTER_DATA_DIR": str(root / "data"),
    }
    cmd = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
        f"--port={port}", "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}",
        f"--notebook-dir={work}", "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        f"--LabApp.user_settings_dir={user_settings}",
    ]  # fmt: skip
    log = (root / "lab.log").open("w")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = LabServer(f"http://127.0.0.1:{port}", token, work)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                server.api("status")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail("JupyterLab did not start:\n" + (root / "lab.log").read_text())
                time.sleep(0.5)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def wait_for_a_connected_idle_kernel(
    server: LabServer, notebook: str | None = None, seconds: float = 240
) -> None:
    """Run All before the page's kernel is connected is silently dropped: wait for it."""
    deadline = time.monotonic() + seconds
    kernels: list[Any] = []
    while time.monotonic() < deadline:
        sessions = server.api("sessions")
        kernels = [
            s["kernel"]
            for s in sessions
            if s.get("kernel") and (notebook is None or s.get("path", "").endswith(notebook))
        ]
        if any(k["execution_state"] == "idle" and k["connections"] > 0 for k in kernels):
            time.sleep(1)  # let the page's kernel connection settle
            return
        time.sleep(0.5)
    pytest.fail(f"no connected idle kernel after {seconds}s: {kernels}")

"""README command 1 as a new user runs it: scripts/lab sets up and serves notebooks/.

(Command 2 is what CI itself runs, from a clean clone.)
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow
NEWS = "@jupyterlab/apputils-extension:announcements"


def _page_config(html: str) -> dict[str, Any]:
    """The ``jupyter-config-data`` JSON JupyterLab embeds in its page."""
    found = re.search(
        r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', html, re.S
    )
    assert found is not None, "no jupyter-config-data in the page"
    config: dict[str, Any] = json.loads(found.group(1))
    return config


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_command_1_opens_jupyterlab_on_the_notebooks_with_the_demo_data(tmp_path: Path) -> None:
    port, token = _free_port(), secrets.token_hex(12)
    env = {**os.environ, "WFNB_OPEN_BROWSER": "False", "JUPYTER_PLATFORM_DIRS": "1"}
    cmd = ["./scripts/lab", f"--port={port}", "--ServerApp.ip=127.0.0.1",
           f"--IdentityProvider.token={token}"]  # fmt: skip
    log = (tmp_path / "lab.log").open("wb")
    proc = subprocess.Popen(
        cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600  # a first run installs and builds the demo
        while True:
            try:
                url = f"{base}/api/contents?token={token}"
                with urllib.request.urlopen(url, timeout=2) as resp:
                    listing = json.load(resp)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    out = (tmp_path / "lab.log").read_text()
                    pytest.fail(f"scripts/lab did not serve JupyterLab:\n{out[-3000:]}")
                time.sleep(1)
        names = {item["name"] for item in listing["content"]}
        assert {"00_tour.ipynb", "01_compliance_analyst.ipynb", "demo.db"} <= names
        with urllib.request.urlopen(f"{base}/lab?token={token}", timeout=10) as resp:
            assert resp.status == 200
            page = resp.read().decode()
        # the "official Jupyter news?" toast would cover every notebook page
        assert NEWS in _page_config(page)["disabledExtensions"]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()

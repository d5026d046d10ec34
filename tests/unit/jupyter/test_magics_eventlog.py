"""``%wfnb export`` and ``%wfnb import`` in a real shell: a report line, or one coded line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import WORKFLOWS
from tests.unit.jupyter.conftest import Shell
from wfnb import frames
from wfnb.simulation.demo import build_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('magic') / 'demo.db'}"
    build_demo(url, users=20, months=2, progress=False)
    return url


def test_export_and_import_magics(ip: Shell, demo: str, tmp_path: Path) -> None:
    log = tmp_path / "demo.json"
    assert ip.run(f"%wfnb connect {demo}").success
    ran = ip.run(f"%wfnb export {log} --workflow invoice --activity step")
    rows = len(frames.history(demo, workflow="invoice", limit=None))
    assert str(ran.result).startswith(f"wrote {rows:,} events"), ran.output
    target = tmp_path / "copy.db"
    target.touch()
    assert ip.run(f"%wfnb connect sqlite:///{target}").success
    assert ip.run(f"%wfnb load {WORKFLOWS}").success
    ran = ip.run(f"%wfnb import {log} --workflow invoice")
    assert str(ran.result).startswith(f"imported {rows:,} events"), ran.output
    assert len(frames.history(f"sqlite:///{target}", limit=None)) == rows


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("%wfnb export {tmp}/x.txt", "WF400: cannot tell the format"),
        ("%wfnb export {tmp}/x.xes --format pdf", "WF400: %wfnb export: argument --format"),
        ("%wfnb export {tmp}/x.xes --since 2026-02-01 --until 2026-01-01", "WF400: --since"),
        ("%wfnb export", "WF400: %wfnb export: the following arguments are required: file"),
        ("%wfnb export {tmp}/nonexist/m.xes", "WF400: cannot write"),
        ("%wfnb import {tmp}/bad.xes --workflow invoic", "WF200: unknown workflow 'invoic'"),
        ("%wfnb import {tmp}/bad.xes --mapping '{{\"x\": 1}}'", "WF400: mapping: unknown key"),
        ("%wfnb import {tmp}/bad.xes", "WF401: bad.xes: line 1, column 1: the root element"),
    ],
)
def test_bad_arguments_are_one_coded_line(
    ip: Shell, demo: str, tmp_path: Path, line: str, needle: str
) -> None:
    (tmp_path / "bad.xes").write_text("<html/>", encoding="utf-8")
    ip.run(f"%wfnb connect {demo}")
    ip.run(f"%wfnb load {WORKFLOWS}")
    ran = ip.run(line.format(tmp=tmp_path))
    assert not ran.success
    shown = [x for x in ran.output.splitlines() if x.strip()]
    assert len(shown) == 1, ran.output
    assert needle in shown[0], shown[0]
    assert "Traceback" not in ran.output
    assert not (tmp_path / "x.xes").exists()

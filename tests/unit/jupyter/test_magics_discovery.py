"""``%wfnb discover`` and ``%wfnb variants`` in a real shell over a small demo database:
real objects back, the same numbers as the API, help, and every mistake one coded line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import WORKFLOWS
from tests.unit.jupyter.conftest import Shell
from tests.unit.jupyter.test_magics_core import assert_one_line_error
from wfnb import frames, validate
from wfnb.analysis.diagram import Diagram
from wfnb.analysis.discovery import DirectlyFollows
from wfnb.simulation.demo import build_demo


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('magic') / 'demo.db'}"
    build_demo(url, users=30, months=2, progress=False)
    return url


@pytest.fixture
def shell(ip: Shell, demo_url: str) -> Shell:
    ip.run(f"%wfnb connect {demo_url}")
    ip.run(f"%wfnb load {WORKFLOWS}")
    return ip


def test_variants_return_the_frame_the_api_returns(shell: Shell, demo_url: str) -> None:
    ran = shell.run("v = %wfnb variants invoice --limit 2")
    assert ran.success, ran.output
    cut = shell.ns["v"]
    whole = frames.variants(demo_url, "invoice")
    assert list(cut["count"]) == list(whole["count"][:2])
    html = cut._repr_html_()
    assert f"2 of {len(whole):,} variants" in html
    assert "--limit N or omit it" in html


def test_discover_returns_the_graph_and_overlays_the_loaded_config(shell: Shell) -> None:
    dfg = shell.run("%wfnb discover invoice").result
    assert isinstance(dfg, DirectlyFollows)
    assert dfg.workflow == "invoice"
    assert dfg.entities > 0
    drawn = shell.run("%wfnb discover invoice --overlay").result
    assert isinstance(drawn, Diagram)
    assert [label for label, _, _ in drawn.ir.legend][1:] == [
        "taken but not allowed",
        "allowed but never taken",
    ]


def test_discover_skeleton_is_json_that_validates(shell: Shell) -> None:
    ran = shell.run("%wfnb discover user_registration --skeleton")
    assert ran.success, ran.output
    config = json.loads(str(ran.result))
    assert validate(config).ok


def test_the_variant_browser_pages_every_variant(shell: Shell, demo_url: str) -> None:
    browser = shell.run("%wfnb variants invoice --browse").result
    whole = frames.variants(demo_url, "invoice")
    assert len(browser.rows()) == len(whole)
    assert browser.rows()[0][0] == f"{whole['count'][0]:,}"
    assert f"{len(whole):,} variant" in browser.summary.value
    browser.show(0)
    assert "<ol" in browser.detail.value
    for word in ("nan", "None", "NaT"):
        assert word not in " ".join(" ".join(r) for r in browser.rows())


def test_help_names_the_options(shell: Shell) -> None:
    for cell, option in (
        ("%wfnb discover --help", "--overlay"),
        ("%wfnb help variants", "--browse"),
    ):
        ran = shell.run(cell)
        assert ran.success
        assert option in str(ran.result)


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("%wfnb variants --limit many", "WF400"),
        ("%wfnb discover --overlay", "WF400"),
        ("%wfnb discover nosuch", "WF200"),
        ("%wfnb variants nosuch", "WF200"),
        ("%wfnb variants invocie", "did you mean 'invoice'"),
        ("%wfnb discover nosuch --overlay", "WF200"),
        ("%wfnb variants invoice --browse --limit 3", "WF400"),
        ("%wfnb discover invoice --since 2026-09-01 --until 2026-08-01", "WF400"),
        ("%wfnb discover invoice --since yesterday", "WF400"),
        ("%wfnb discover invoice --min-count 0", "WF400"),
    ],
)
def test_mistakes_are_one_coded_line(shell: Shell, cell: str, code: str) -> None:
    ran = shell.run(cell)
    assert not ran.success
    assert_one_line_error(ran.output, code)


def test_without_a_database_it_says_connect(ip: Shell, tmp_path: Path) -> None:
    assert_one_line_error(ip.run("%wfnb discover").output, "WF400")
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    ip.run(f"%wfnb connect sqlite:///{empty}")
    assert_one_line_error(ip.run("%wfnb variants").output, "WF300")

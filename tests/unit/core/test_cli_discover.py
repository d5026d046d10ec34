"""`wfnb discover` and `wfnb variants` as ``main(argv)`` over a small demo: the numbers the API
gives, durations in days and hours, a cut list said, drawings written, mistakes one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import WORKFLOWS
from wfnb import discover, frames, validate
from wfnb.cli import main
from wfnb.simulation.demo import build_demo


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'demo.db'}"
    build_demo(url, users=30, months=2, progress=False)
    return url


def test_discover_prints_every_edge_with_readable_durations(
    demo_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["discover", "--db", demo_url, "--workflow", "invoice"]) == 0
    out, err = capsys.readouterr()
    dfg = discover(demo_url, workflow="invoice")
    for row in dfg.edges.itertuples():
        assert f"{row.from_status} → {row.to_status}" in out
    assert " h" in out or " d" in out
    for word in ("nan", "None", "NaT", "days"):
        assert word not in out
    assert f"{dfg.entities:,} entities" in err


def test_discover_json_counts_equal_the_api(
    demo_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["discover", "--db", demo_url, "--workflow", "invoice", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    dfg = discover(demo_url, workflow="invoice")
    assert {(e["from_status"], e["to_status"]): e["count"] for e in data["edges"]} == {
        (r.from_status, r.to_status): int(r.count) for r in dfg.edges.itertuples()
    }


def test_overlay_and_drawing(
    demo_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["discover", str(WORKFLOWS), "--db", demo_url, "--workflow", "invoice", "--overlay"]
    assert main(args) == 0
    assert "allowed but never taken" in capsys.readouterr().out
    target = tmp_path / "invoice.svg"
    assert main([*args, "-o", str(target)]) == 0
    svg = target.read_text(encoding="utf-8")
    assert "taken but not allowed" in svg
    assert "nan" not in svg


def test_skeleton_prints_a_config_that_validates(
    demo_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["discover", "--db", demo_url, "--workflow", "invoice", "--skeleton"]) == 0
    assert validate(json.loads(capsys.readouterr().out)).ok


def test_variants_says_how_many_it_left_out(
    demo_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    whole = frames.variants(demo_url, "invoice")
    assert main(["variants", "--db", demo_url, "--workflow", "invoice", "--limit", "2"]) == 0
    out, err = capsys.readouterr()
    assert f"2 of {len(whole):,} variants — use --limit N or --all" in err
    assert whole["variant"][0] in out
    assert (
        main(["variants", "--db", demo_url, "--workflow", "invoice", "--all", "--format", "csv"])
        == 0
    )
    out, err = capsys.readouterr()
    assert len(out.strip().splitlines()) == len(whole) + 1
    assert f"{len(whole):,} variants" in err


@pytest.mark.parametrize(
    ("argv", "code", "exit_code"),
    [
        (["variants", "--db", "sqlite:////nonexistent/x.db"], "WF300", 1),
        (["variants", "--db", "DB", "--limit", "0"], "WF400", 2),
        (["discover", "--db", "DB", "--overlay"], "WF400", 2),
        (["discover", "--db", "DB", "--since", "2026-09-01", "--until", "2026-08-01"], "WF400", 2),
        (
            ["discover", "--db", "DB", "--workflow", "nosuch", "--overlay", str(WORKFLOWS)],
            "WF400",
            2,
        ),
    ],
)
def test_mistakes_are_one_coded_line(
    demo_url: str, argv: list[str], code: str, exit_code: int, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [demo_url if a == "DB" else a for a in argv]
    assert main(argv) == exit_code
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith(code)


@pytest.mark.parametrize("command", ["discover", "variants"])
def test_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, "--help"]) == 0
    assert "--db" in capsys.readouterr().out


def test_no_history_says_so(demo_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    late = ["--workflow", "invoice", "--since", "2099-01-01"]
    assert main(["discover", "--db", demo_url, *late]) == 0
    assert capsys.readouterr().out == "0 history rows: nothing to discover\n"
    assert main(["variants", "--db", demo_url, *late]) == 0
    assert capsys.readouterr().out == "0 variants\n"


@pytest.mark.parametrize("command", ["discover", "variants"])
def test_an_unknown_workflow_is_wf200_with_did_you_mean(
    demo_url: str, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command, "--db", demo_url, "--workflow", "invocie"]) != 0
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("WF200")
    assert "did you mean 'invoice'?" in err[0]
    assert captured.out == ""


def test_last_seen_there_counts_latest_history_rows(
    demo_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlalchemy as sa

    assert main(["discover", "--db", demo_url, "--workflow", "invoice"]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if "stays" in line)
    assert "last_seen_there" in header
    assert " now " not in f" {header} "
    latest = (
        "SELECT to_status, count(*) FROM workflow_history h WHERE workflow = 'invoice' AND "
        "NOT EXISTS (SELECT 1 FROM workflow_history l WHERE l.workflow = h.workflow AND "
        "l.entity_id = h.entity_id AND (l.changed_at > h.changed_at OR "
        "(l.changed_at = h.changed_at AND l.id > h.id))) GROUP BY to_status"
    )
    engine = sa.create_engine(demo_url)
    try:
        with engine.connect() as conn:
            expected = {str(s): int(n) for s, n in conn.execute(sa.text(latest))}
    finally:
        engine.dispose()
    dwell = discover(demo_url, workflow="invoice").dwell
    shown = {str(r.status): int(r.current) for r in dwell.itertuples() if int(r.current)}
    assert shown == expected
    for status, n in expected.items():
        assert any(
            line.split()[:1] == [status] and f"{n:,}" in line.split() for line in out.splitlines()
        )


def test_min_count_leaves_rare_edges_out_and_says_so(
    demo_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    dfg = discover(demo_url, workflow="invoice")
    rare = int((dfg.edges["count"] < 3).sum())
    assert rare
    assert main(["discover", "--db", demo_url, "--workflow", "invoice", "--min-count", "3"]) == 0
    out, err = capsys.readouterr()
    assert f"{rare:,} edges taken fewer than 3 times left out" in err
    kept = dfg.edges[dfg.edges["count"] >= 3]
    assert sum(" → " in line for line in out.split("\n\n")[0].splitlines()) == len(kept)

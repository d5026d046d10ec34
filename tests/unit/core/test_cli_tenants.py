"""The command line and tenant overlays: validate names the overlay, --tenant draws and diffs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import WORKFLOWS
from wfnb.cli import main

OVERLAY = {"timers": {"due": {"after": "P30D"}}, "steps": {"approve": {"action": None}}}


def _folder(tmp_path: Path, overlay: object = OVERLAY) -> Path:
    shutil.copy(WORKFLOWS / "invoice.json", tmp_path / "invoice.json")
    tenant = tmp_path / "tenants" / "community_a"
    tenant.mkdir(parents=True)
    (tenant / "invoice.json").write_text(json.dumps(overlay))
    return tmp_path


def test_validate_reports_a_bad_overlay_by_its_file_and_pointer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _folder(tmp_path, {"timers": {"du": {"after": "P30D"}}})
    assert main(["validate", str(folder)]) == 1
    out = capsys.readouterr().out
    (line,) = [row for row in out.splitlines() if "WF" in row]
    overlay = folder / "tenants" / "community_a" / "invoice.json"
    assert line.startswith(f"{overlay}:/timers/du: WF114 no timer 'du'")
    assert main(["graph", "invoice", str(folder), "-o", "-"]) == 1  # nothing runs on it
    assert "WF114" in capsys.readouterr().err


def test_graph_paths_and_report_as_a_tenant_runs_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _folder(tmp_path)
    argv = ["graph", "invoice", str(folder), "--format", "dot", "-o", "-"]
    assert main([*argv, "--tenant", "community_a"]) == 0
    tenant = capsys.readouterr().out
    assert "mark_overdue after 30 d" in tenant
    assert "invoice as tenant community_a runs it" in tenant
    assert main(argv) == 0
    assert "mark_overdue after 14 d" in capsys.readouterr().out
    assert main(["paths", "invoice", str(folder), "--tenant", "community_a"]) == 0
    assert "paths of invoice" in capsys.readouterr().out
    target = tmp_path / "r.html"
    assert main(["report", str(folder), "-o", str(target), "--tenant", "community_a"]) == 0
    html = target.read_text()
    assert "invoice as tenant community_a runs it" in html
    assert "tenants/community_a/invoice.json" in html


def test_diff_tenant_lists_exactly_the_overridden_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _folder(tmp_path)
    assert main(["diff", str(folder / "invoice.json"), "--tenant", "community_a"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "the base -> as tenant community_a runs it" in lines[0]
    assert "2 changes" in lines[0]
    assert sorted(lines[1:]) == [
        "  step approve: use case action removed (was approve_invoices)",
        "  timer due changed: after from P14D to P30D",
    ]


@pytest.mark.parametrize(
    ("tenant", "hint"), [("globex", ""), ("community_b", "; did you mean 'community_a'?")]
)
def test_diff_an_unknown_tenant_is_one_coded_line_naming_the_overlaid_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], tenant: str, hint: str
) -> None:
    folder = _folder(tmp_path)
    assert main(["diff", str(folder / "invoice.json"), "--tenant", tenant]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.strip().splitlines()
    assert line.startswith("WF400")
    assert f"tenant {tenant!r} of invoice{hint} (tenants with an overlay: community_a)" in line


@pytest.mark.parametrize("linked", ["folder", "file"])
def test_a_symlinked_tenant_folder_or_overlay_is_refused_unread(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], linked: str
) -> None:
    (tmp_path / "wf").mkdir()
    folder = _folder(tmp_path / "wf")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "invoice.json").write_text(json.dumps(OVERLAY))
    if linked == "folder":
        link = folder / "tenants" / "etc"
        link.symlink_to(outside, target_is_directory=True)
    else:
        link = folder / "tenants" / "community_a" / "billing.json"
        link.symlink_to(outside / "invoice.json")
    assert main(["validate", str(folder)]) == 1
    out = capsys.readouterr().out
    (line,) = [row for row in out.splitlines() if "WF" in row]
    assert line.startswith(f"{link}:/: WF100 cannot read tenant overlay: a symbolic link")
    assert "symbolic link" in line
    # never followed: the linked folder is no tenant's overlay
    assert main(["diff", str(folder / "invoice.json"), "--tenant", "etc"]) == 2
    assert "(tenants with an overlay: community_a)" in capsys.readouterr().err

"""The magics understand tenant overlays: draw, trace and diff a workflow as a tenant runs it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.unit.jupyter.conftest import Shell
from tests.unit.jupyter.test_magics_core import assert_one_line_error

WORKFLOWS = Path(__file__).parents[3] / "workflows"


def _folder(tmp_path: Path, overlay: object) -> Path:
    shutil.copy(WORKFLOWS / "invoice.json", tmp_path / "invoice.json")
    tenant = tmp_path / "tenants" / "community_a"
    tenant.mkdir(parents=True)
    (tenant / "invoice.json").write_text(json.dumps(overlay))
    return tmp_path


def test_graph_and_diff_as_a_tenant_runs_it(ip: Shell, tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"timers": {"due": {"after": "P30D"}}})
    assert ip.run(f"%wfnb load {folder}").success
    drawn = ip.run("%wfnb graph invoice --tenant community_a")
    assert drawn.success, drawn.output
    assert "mark_overdue after 30 d" in drawn.result.dot
    assert "as tenant community_a runs it" in drawn.result.ir.title
    base = ip.run("%wfnb graph invoice")
    assert "mark_overdue after 14 d" in base.result.dot
    changes = ip.run("%wfnb diff invoice --tenant community_a")
    assert changes.success, changes.output
    assert [(str(c.kind), c.subject) for c in changes.result] == [("timer_changed", "due")]
    assert "after from P14D to P30D" in str(changes.result)


def test_a_bad_overlay_is_one_line_naming_the_file_and_pointer(ip: Shell, tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"steps": {"send": {"successful_state": "paid"}}})
    ran = ip.run(f"%wfnb load {folder}")
    assert not ran.success or "WF114" in ran.output
    assert_one_line_error(ran.output, "WF114")
    assert "tenants/community_a/invoice.json" in ran.output
    assert "/steps/send/successful_state" in ran.output

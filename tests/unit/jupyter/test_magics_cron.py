"""%wfnb dryrun of a system requester type outside a cron context: one WF209 line (ADR 0103)."""

from __future__ import annotations

import json
from pathlib import Path

import wfnb
from tests.unit.jupyter.conftest import Shell
from tests.unit.jupyter.test_magics_core import assert_one_line_error
from wfnb import testing


def test_a_dryrun_as_a_system_requester_is_one_wf209_line(
    ip: Shell, tmp_path: Path, sqlite_url: str
) -> None:
    data = {**testing.DEFAULT_WORKFLOW, "system_requester_types": ["system"]}
    folder = tmp_path / "workflows"
    folder.mkdir()
    (folder / "ticket.json").write_text(json.dumps(data))
    wf = testing.make_workflow(system_requester_types=["system"])
    engine = wfnb.Engine([wf], sqlite_url)
    engine.install()  # the engine's tables: the notebook's connection only reads
    testing.create_entity_table(engine.db, wf)
    testing.insert_entity(engine.db, wf, "t1", status="submitted")
    engine.dispose()
    assert ip.run(f"%wfnb load {folder}").success
    assert ip.run(f"%wfnb connect {sqlite_url}").success

    refused = ip.run("%wfnb dryrun ticket t1 system --step triage")
    assert_one_line_error(refused.output, "WF209")
    ip.ns["wfnb"] = wfnb
    allowed = ip.run(
        "with wfnb.cron('try-triage'):\n    dr = %wfnb dryrun ticket t1 system --step triage"
    )
    assert allowed.success, allowed.output
    assert ip.ns["dr"].result.to_status == "triaged"

"""The command line, driven as main(argv): exit codes, one-line errors, no tracebacks."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.conftest_data import minimal_workflow
from wfnb.cli import main
from wfnb.spec import schema

WORKFLOWS = Path(__file__).resolve().parents[3] / "workflows"


def write(tmp_path: Path, name: str, data: object) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def test_validate_clean_file_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(write(tmp_path, "ok.json", minimal_workflow()))]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert "0 error(s)" in err


def test_validate_reports_one_line_per_problem_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = minimal_workflow()
    data["steps"][0]["successful_state"] = "nowhere"
    data["initial_status"] = "nope"
    path = write(tmp_path, "bad.json", data)
    assert main(["validate", str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert f"{path}:/steps/0/successful_state: WF103" in "\n".join(lines)
    assert any(line.startswith(f"{path}:/initial_status: WF103") for line in lines)


def test_validate_json_format_is_machine_readable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = minimal_workflow()
    data["requester_types"] = ["robot"]
    path = write(tmp_path, "bad.json", data)
    assert main(["validate", str(path), "--format", "json"]) == 1
    payload = json.loads(capsys.readouterr().out)
    assert payload["ok"] is False
    assert {p["code"] for p in payload["problems"]} >= {"WF104"}


def test_the_example_workflows_validate_clean() -> None:
    assert main(["validate", str(WORKFLOWS)]) == 0


@pytest.mark.parametrize(
    "argv",
    [[], ["nonsense"], ["validate"], ["validate", "x.json", "--format", "yaml"], ["schema", "--x"]],
)
def test_usage_errors_exit_2_with_one_coded_line(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("WF400: ")
    assert len(err.strip().splitlines()) == 1


def test_a_missing_file_is_a_problem_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(tmp_path / "absent.json")]) == 1
    out, err = capsys.readouterr()
    assert "WF100" in out
    assert "Traceback" not in out + err


def test_schema_prints_the_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out) == schema()


def test_python_dash_m_wfnb_runs_the_same_cli(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.json", {"name": 3})
    done = subprocess.run(
        [sys.executable, "-m", "wfnb", "validate", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "WF101" in done.stdout
    assert "Traceback" not in done.stderr


def test_validate_against_a_database_built_from_the_examples(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlalchemy as sa

    from wfnb.examples.energy import schema as energy

    engine = sa.create_engine(db_url)
    energy.create_schema(engine)
    assert main(["validate", str(WORKFLOWS), "--db", db_url]) == 0
    with engine.begin() as conn:  # the invoices table forgets the status 'written_off'
        conn.execute(sa.text("DROP TABLE invoice_payments"))  # it references invoices
        conn.execute(sa.text("DROP TABLE invoices"))
        conn.execute(
            sa.text(
                "CREATE TABLE invoices (id VARCHAR(64) PRIMARY KEY, status VARCHAR(32) NOT NULL "
                "CHECK (status IN ('draft', 'approved', 'sending', 'sent', 'overdue', 'paid', "
                "'cancelled', 'undeliverable')), version INTEGER NOT NULL, "
                "tenant_id VARCHAR(64))"
            )
        )
    engine.dispose()
    capsys.readouterr()
    assert main(["validate", str(WORKFLOWS), "--db", db_url]) == 1
    out = capsys.readouterr().out
    assert "WF112" in out
    assert "written_off" in out

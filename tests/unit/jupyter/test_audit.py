"""The audit trail: a magic that reads the database leaves its SQL, configs and result hash."""

from IPython.utils.capture import capture_output

from tests.conftest import WORKFLOWS
from tests.unit.jupyter.conftest import Shell
from wfnb.jupyter.audit import AUDIT_MIME, result_hash


def test_a_reading_magic_publishes_its_audit_record_after_the_result(
    ip: Shell, draft_invoice: str
) -> None:
    invoice = draft_invoice
    with capture_output() as cap:
        result = ip.shell.run_cell(f"x = %wfnb explain invoice {invoice} admin")
    assert result.success
    (output,) = [o for o in cap.outputs if AUDIT_MIME in o.metadata]
    record = output.metadata[AUDIT_MIME]
    assert record["command"] == f"%wfnb explain invoice {invoice} admin"
    assert record["result_sha256"] == result_hash(ip.ns["x"])
    assert any("FROM invoices" in sql for sql in record["sql"])
    assert "audit:" in output.data["text/html"]
    assert "sqlite" in record["database"]


def test_the_recorded_configs_are_the_loaded_ones(ip: Shell, draft_invoice: str) -> None:
    from wfnb.validation import load_workflows

    invoice = draft_invoice
    with capture_output() as cap:
        ip.shell.run_cell(f"%wfnb explain invoice {invoice} admin")
    (output,) = [o for o in cap.outputs if AUDIT_MIME in o.metadata]
    expected = {n: w.config_hash for n, w in load_workflows([WORKFLOWS]).items()}
    assert output.metadata[AUDIT_MIME]["config_hashes"] == expected


def test_commands_that_read_nothing_leave_no_audit(ip: Shell, draft_invoice: str) -> None:
    assert draft_invoice
    with capture_output() as cap:
        ip.shell.run_cell("%wfnb paths invoice")
    assert not [o for o in cap.outputs if AUDIT_MIME in o.metadata]

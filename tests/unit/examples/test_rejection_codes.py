"""The example use cases' rejections carry stable codes, and a rejection's one line shows it."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.unit.jupyter.test_dryrun_display import world  # noqa: F401  # the fixture
from wfnb.engine import Engine, Outcome
from wfnb.examples.energy import schema
from wfnb.sandbox import dry_run

EXAMPLES = Path(__file__).resolve().parents[3] / "src" / "wfnb" / "examples" / "energy"


def test_every_example_rejection_has_a_code() -> None:
    uncoded = []
    for path in sorted(EXAMPLES.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "reject"
                and not any(k.arg == "code" for k in node.keywords)
            ):
                uncoded.append(f"{path.name}:{node.lineno}")
    assert uncoded == []


def test_a_rejection_without_a_reason_says_reason_required(energy_engine: Engine) -> None:
    with energy_engine.db.begin() as conn:
        invoice = schema.insert_invoice(conn, status="overdue")
    result = energy_engine.execute_step("invoice", invoice, "admin", step="write_off")
    assert result.outcome is Outcome.REJECTED
    assert result.metadata["code"] == "reason_required"
    assert "rejected (reason_required) invoice:" in repr(result)


def test_a_dry_run_rejection_reads_rejected_with_its_code(world) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    db, wfs, _, _ = world
    import sqlalchemy as sa

    from wfnb.examples.energy import schema as s

    engine = sa.create_engine(db)
    with engine.begin() as conn:
        invoice = s.insert_invoice(conn, status="overdue")
    engine.dispose()
    html = dry_run(db, wfs, "invoice", invoice, "admin", step="write_off")._repr_html_()
    assert "rejected (reason_required): a reason is required for this step" in html

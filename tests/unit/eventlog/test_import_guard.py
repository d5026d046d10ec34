"""An import never rewrites an entity's history nor fills the outbox (ADR 0120 amendment):
a case whose entity already has history in the workflow is refused with one WF401 line
(how many, the first id) and nothing is written; imported rows leave no outbox events."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import WORKFLOWS
from wfnb.eventlog import import_log
from wfnb.exceptions import EventLogError
from wfnb.store import Store
from wfnb.validation import load_workflows

HEADER = "case:concept:name,concept:name,time:timestamp\n"


def _counts(url: str) -> tuple[int, int, str | None]:
    db = sa.create_engine(url)
    try:
        with db.connect() as conn:
            history = conn.execute(sa.text("SELECT count(*) FROM workflow_history")).scalar()
            outbox = conn.execute(sa.text("SELECT count(*) FROM workflow_outbox")).scalar()
            status = conn.execute(
                sa.text("SELECT status FROM invoices WHERE id = 'inv_1'")
            ).scalar()
    finally:
        db.dispose()
    return int(history or 0), int(outbox or 0), status


def test_existing_case_refused_and_outbox_untouched(db_url: str, tmp_path: Path) -> None:
    wfs = load_workflows([WORKFLOWS])
    store = Store(db_url)
    store.install()  # the outbox trigger on workflow_history
    store.dispose()
    first = tmp_path / "first.csv"
    first.write_text(
        HEADER + "inv_1,draft,2026-01-01T00:00:00Z\n"
        "inv_1,paid,2026-01-02T00:00:00Z\ninv_2,draft,2026-01-01T00:00:00Z\n"
    )
    report = import_log(first, db_url, workflow="invoice", wfs=wfs)
    assert report.events == 3
    assert _counts(db_url) == (3, 0, "paid")  # imported history is not a new transition

    again = tmp_path / "again.csv"
    again.write_text(
        HEADER + "inv_9,draft,2026-01-01T00:00:00Z\n"
        "inv_1,draft,2020-01-01T00:00:00Z\ninv_2,draft,2020-01-01T00:00:00Z\n"
    )
    with pytest.raises(EventLogError) as caught:
        import_log(again, db_url, workflow="invoice", wfs=wfs)
    assert caught.value.code == "WF401"
    assert "2 cases already have history in workflow 'invoice' (first: 'inv_1')" in str(
        caught.value
    )
    assert _counts(db_url) == (3, 0, "paid")  # nothing rewound, nothing duplicated

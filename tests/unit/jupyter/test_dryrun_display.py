"""How a dry-run shows itself: a mistake is one coded line; a run shows what changed."""

from __future__ import annotations

import re

import pytest

from tests.conftest import WORKFLOWS
from tests.unit.frames.test_display import assert_readable
from wfnb.engine import Engine
from wfnb.examples.energy import schema
from wfnb.sandbox import dry_run
from wfnb.spec import Workflows
from wfnb.validation import load_workflows


@pytest.fixture
def world(sqlite_url: str) -> tuple[str, Workflows, str, str]:
    """A draft invoice and a user waiting to verify an e-mail (token ``tok``)."""
    wfs = load_workflows([WORKFLOWS])
    engine = Engine(wfs, sqlite_url)
    engine.install()
    schema.create_schema(engine.db)
    with engine.db.begin() as conn:
        invoice = schema.insert_invoice(conn)
        user = schema.insert_user(conn, email_token="tok")
    engine.dispose()
    return sqlite_url, wfs, invoice, user


def _one_coded_line(html: str, code: str) -> None:
    assert "<table" not in html
    text = re.sub(r"<[^>]+>", "", html)
    assert text.count(code) == 1
    assert len([line for line in text.splitlines() if line.strip()]) == 1
    assert_readable(html)


def test_an_unknown_entity_is_one_coded_line_not_empty_tables(world) -> None:  # type: ignore[no-untyped-def]
    db, wfs, _, _ = world
    html = dry_run(db, wfs, "invoice", "inv_nobody", "admin")._repr_html_()
    _one_coded_line(html, "WF201")
    assert "→" not in html


def test_an_unknown_step_is_one_coded_line_not_an_entity_dump(world) -> None:  # type: ignore[no-untyped-def]
    db, wfs, invoice, _ = world
    html = dry_run(db, wfs, "invoice", invoice, "admin", step="nosuch")._repr_html_()
    _one_coded_line(html, "WF202")
    assert "stays at draft" in html


def test_a_run_shows_the_changed_columns_and_folds_the_rest(world) -> None:  # type: ignore[no-untyped-def]
    db, wfs, invoice, _ = world
    dr = dry_run(db, wfs, "invoice", invoice, "admin", step="approve")
    html = dr._repr_html_()
    assert_readable(html)
    assert "draft → approved" in html
    unchanged = len(dr.before or {}) - len(dr.changes)
    assert f"<details><summary>{unchanged} columns unchanged" in html
    assert html.index("status") < html.index("<details>")  # the change comes first
    assert "history rows it would write" in html
    assert "nothing was written" in html


def test_a_rejection_reads_why_without_none(world) -> None:  # type: ignore[no-untyped-def]
    db, wfs, _, user = world
    dr = dry_run(
        db, wfs, "user_registration", user, "user", step="verify_email", data={"token": "no"}
    )
    html = dr._repr_html_()
    assert_readable(html)
    assert "why:" in html
    assert "(stays at pending_email_verification)" in html


def test_a_rejection_with_a_code_shows_the_code(world) -> None:  # type: ignore[no-untyped-def]
    from wfnb import Result

    db, wfs, _, user = world
    step = next(s for s in wfs["user_registration"].steps if s.key == "verify_email")
    assert step.validation is not None

    def missing_token(ctx):  # type: ignore[no-untyped-def]
        return Result.reject("a token is required", code="WF208")

    dr = dry_run(
        db, wfs, "user_registration", user, "user", step="verify_email",
        use_cases={step.validation: missing_token},
    )  # fmt: skip
    assert "why: rejected (WF208): a token is required" in dr._repr_html_()


def test_load_ext_shows_plain_frames_in_a_scrolling_box(ip) -> None:  # type: ignore[no-untyped-def]
    import pandas as pd

    formatter = ip.shell.display_formatter.formatters["text/html"]
    frame = pd.DataFrame({"detail": ["table says active, last history row says pending_hub"]})
    out = formatter(frame)
    assert "overflow-x:auto" in out
    assert "title='table says active, last history row says pending_hub'" in out

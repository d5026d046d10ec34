"""A forgotten migration is caught at boot for every column kind (issue 16.2).

A free TEXT status column holding entities at a status the config no longer declares:
``validate(db=...)`` reports each such status with its count and the UPDATE that moves
them; ``Engine.install()`` refuses to start on it unless told to, loudly.
"""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from tests.unit.validation.sample import sample
from tests.unit.validation.test_database import make_table
from wfnb.engine import Engine
from wfnb.exceptions import ConfigError
from wfnb.validation import load_workflows, validate


def fill(url: str, statuses: list[str | None]) -> None:
    """One invoice per entry of ``statuses``."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for i, status in enumerate(statuses):
            conn.execute(
                sa.text("INSERT INTO invoices (id, status, version) VALUES (:i, :s, 1)"),
                {"i": i + 1, "s": status},
            )
    engine.dispose()


def test_a_text_column_holding_a_removed_status_is_wf112_with_count_and_update(
    db_url: str,
) -> None:
    make_table(db_url, statuses=None)  # free text: no CHECK, no enum to read
    fill(db_url, ["draft", "archived", "archived", "archived", "disputed", "paid"])
    report = validate(sample(), db=db_url)
    assert not report.ok
    found = {p.message.split("status ")[1].split(",")[0]: p for p in report.errors}
    assert set(found) == {"'archived'", "'disputed'"}
    archived = found["'archived'"]
    assert (archived.code, archived.pointer) == ("WF112", "/entity/status_column")
    assert "holds 3 entities" in archived.message
    assert "holds 1 entity at" in found["'disputed'"].message
    assert archived.message.endswith(
        "e.g. to the initial status: UPDATE invoices SET status='draft', "
        "version=(invoices.version + 1) WHERE invoices.status = 'archived';"
    )


def test_only_declared_statuses_pass(db_url: str) -> None:
    make_table(db_url, statuses=None)
    fill(db_url, ["draft", "sent", "paid"])
    assert validate(sample(), db=db_url).ok


def test_engine_install_refuses_undeclared_statuses_unless_allowed_loudly(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    make_table(db_url, statuses=None)
    fill(db_url, ["draft", "archived", "archived"])
    workflows = load_workflows(sample())
    engine = Engine(workflows, db_url)
    try:
        with pytest.raises(ConfigError) as raised:
            engine.install()
        assert raised.value.code == "WF112"
        assert "holds 2 entities at status 'archived'" in raised.value.one_line()
        with caplog.at_level(logging.WARNING, logger="wfnb.engine"):
            engine.install(allow_undeclared_statuses=True)
        (record,) = [r for r in caplog.records if "WF112" in r.getMessage()]
        assert record.levelno == logging.WARNING
        assert "allow_undeclared_statuses" in record.getMessage()
    finally:
        engine.dispose()


def test_engine_install_before_the_entity_table_exists_is_fine(db_url: str) -> None:
    engine = Engine(load_workflows(sample()), db_url)
    try:
        engine.install()  # the entity table comes later: nothing undeclared in it yet
    finally:
        engine.dispose()

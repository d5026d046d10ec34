"""%wfnb history / failures / conformance / dryrun over a database the real engine filled."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from tests.conftest import WORKFLOWS
from tests.unit.jupyter.conftest import Shell
from tests.unit.jupyter.test_magics_core import assert_one_line_error
from wfnb.engine import Engine
from wfnb.examples.energy import schema
from wfnb.validation import load_workflows


@pytest.fixture
def filled(ip: Shell, sqlite_url: str) -> dict[str, str]:
    """Two users: one verified its e-mail, one was rejected with a wrong token."""
    engine = Engine(load_workflows([WORKFLOWS]), sqlite_url)
    engine.install()
    schema.create_schema(engine.db)
    with engine.db.begin() as conn:
        ok = schema.insert_user(conn, email_token="tok-right")
        bad = schema.insert_user(conn, email_token="tok-other")
    assert engine.execute_step(
        "user_registration", ok, "user", step="verify_email", data={"token": "tok-right"}
    ).ok
    engine.execute_step(
        "user_registration", bad, "user", step="verify_email", data={"token": "nope"}
    )
    engine.dispose()
    assert ip.run(f"%wfnb load {WORKFLOWS}").success
    assert ip.run(f"%wfnb connect {sqlite_url}").success
    return {"ok": ok, "bad": bad, "url": sqlite_url}


def test_history_filters_and_is_assignable(ip: Shell, filled: dict[str, str]) -> None:
    ran = ip.run(f"df = %wfnb history --workflow user_registration --entity {filled['ok']}")
    assert ran.success, ran.output
    df = ip.ns["df"]
    assert isinstance(df, pd.DataFrame)
    assert list(df["to_status"].astype(str)) == ["pending_documents"]
    assert "wfnb_audit" in df.attrs
    every = ip.run("every = %wfnb history --since 2000-01-01 --limit 1")
    assert every.success, every.output
    assert len(ip.ns["every"]) == 1


def test_dryrun_never_writes_the_source(ip: Shell, filled: dict[str, str]) -> None:
    def count() -> int:
        with sa.create_engine(filled["url"]).connect() as conn:
            return int(conn.execute(sa.text("SELECT count(*) FROM workflow_history")).scalar_one())

    before = count()
    ran = ip.run(
        f"""dr = %wfnb dryrun user_registration {filled["bad"]} user --step verify_email """
        f"""--data '{{"token": "tok-other"}}'"""
    )
    assert ran.success, ran.output
    assert ip.ns["dr"].result.ok
    assert count() == before


def test_conformance_of_an_engine_written_history_is_clean(
    ip: Shell, filled: dict[str, str]
) -> None:
    ran = ip.run("k = %wfnb conformance user_registration")
    assert ran.success, ran.output
    assert ip.ns["k"].fitness == 1.0


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("%wfnb history --since yesterday", "WF400"),
        ("%wfnb history --workflow nope", "WF200"),
        ("%wfnb history --limit many", "WF400"),
        ("%wfnb failures --until 2026-13-01", "WF400"),
        ("%wfnb dryrun user_registration x user --data '[1, 2]'", "WF400"),
        ("%wfnb dryrun user_registration x user --data '{oops'", "WF400"),
        ("%wfnb dryrun nope x user", "WF200"),
        ("%wfnb conformance nope", "WF200"),
    ],
)
def test_bad_data_arguments_show_one_coded_line(
    ip: Shell, filled: dict[str, str], cell: str, code: str
) -> None:
    ran = ip.run(cell)
    assert not ran.success
    assert_one_line_error(ran.output, code)


def test_reading_without_a_database_is_one_line(ip: Shell) -> None:
    assert ip.run(f"%wfnb load {WORKFLOWS}").success
    assert_one_line_error(ip.run("%wfnb history").output, "WF400")

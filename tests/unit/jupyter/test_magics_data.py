"""%wfnb history / failures / conformance / dryrun over a database the real engine filled."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from tests.conftest import WORKFLOWS
from tests.unit.frames.test_display import assert_readable
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
        "user_registration",
        ok,
        "user",
        step="verify_email",
        data={"token": "tok-right"},
        user_id="u-ok",
    ).ok
    engine.execute_step(
        "user_registration",
        bad,
        "user",
        step="verify_email",
        data={"token": "nope"},
        user_id="u-bad",
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
        ("%wfnb history --limit -1", "WF400"),
        ("%wfnb failures --limit 5 --all", "WF400"),
        ("%wfnb dryrun user_registration nobody user", "WF201"),
        ("%wfnb dryrun invoice nobody admin --step approve", "WF201"),
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


def _sql_count(url: str, sql: str) -> int:
    with sa.create_engine(url).connect() as conn:
        return int(conn.execute(sa.text(sql)).scalar_one())


def _shown(ip: Shell, value: object) -> str:
    data, _ = ip.shell.display_formatter.format(value)
    return str(data.get("text/html", ""))


def test_history_is_whole_by_default_and_newest_first(ip: Shell, filled: dict[str, str]) -> None:
    assert ip.run("df = %wfnb history").success
    df = ip.ns["df"]
    assert len(df) == _sql_count(filled["url"], "SELECT count(*) FROM workflow_history")
    assert df["changed_at"].is_monotonic_decreasing
    html = _shown(ip, df)
    assert f"{len(df)} rows" in html
    assert_readable(html)


def test_a_cut_history_says_so_in_plain_sight(ip: Shell, filled: dict[str, str]) -> None:
    total = _sql_count(filled["url"], "SELECT count(*) FROM workflow_history")
    ran = ip.run("cut = %wfnb history --limit 1")
    assert ran.success, ran.output
    cut = ip.ns["cut"]
    assert (len(cut), cut.attrs["wfnb_total"]) == (1, total)
    assert f"1 of {total} rows — --limit N or --all" in _shown(ip, cut).replace("\\u2014", "—")


def test_row_limit_cuts_and_all_reads_every_row(ip: Shell, filled: dict[str, str]) -> None:
    total = _sql_count(filled["url"], "SELECT count(*) FROM workflow_history")
    assert ip.run("%config WfnbMagics.row_limit = 1").success
    assert ip.run("one = %wfnb history").success
    assert len(ip.ns["one"]) == 1
    assert ip.run("every = %wfnb history --all").success
    assert len(ip.ns["every"]) == total
    # a negative limit is refused where it is set (one WF400 line), the old value stands
    ran = ip.run("%config WfnbMagics.row_limit = -5")
    assert "Traceback" not in ran.output
    assert ip.run("still = %wfnb history").success
    assert len(ip.ns["still"]) == 1


def test_history_and_failures_filter_by_user(ip: Shell, filled: dict[str, str]) -> None:
    assert ip.run("mine = %wfnb history --user u-ok").success
    assert set(ip.ns["mine"]["user_id"]) == {"u-ok"}
    assert ip.run("none = %wfnb failures --user u-ok").success
    assert ip.ns["none"].empty


def test_a_dryrun_of_an_unknown_step_is_one_coded_line(ip: Shell, filled: dict[str, str]) -> None:
    ran = ip.run(f"%wfnb dryrun user_registration {filled['ok']} user --step nosuch")
    assert not ran.success
    assert_one_line_error(ran.output, "WF202")

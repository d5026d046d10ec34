"""The magics' integer, date and option inputs: bounded, strict, one WF400 line each.

Same rules as the CLI (:mod:`wfnb.arguments`): a huge ``--limit`` or ``--depth`` used to end
in an ``OverflowError`` traceback, ``2026-06-01x10`` was read as 10:00, ``row_limit='abc'``
was a bare traitlets error; ``--limit 0`` now means every row as ``row_limit = 0`` does, and
``graph --heat`` takes the history window ``edge_counts`` supports.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from tests.unit.jupyter import test_magics_data
from tests.unit.jupyter.conftest import Shell
from tests.unit.jupyter.test_magics_core import assert_one_line_error

filled = test_magics_data.filled  # the fixture: two users, one rejected
HUGE = "99999999999999999999999"


def _count(url: str, since: datetime | None = None) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            if since is None:
                return int(
                    conn.execute(sa.text("SELECT count(*) FROM workflow_history")).scalar_one()
                )
            sql = "SELECT count(*) FROM workflow_history WHERE changed_at >= :s"
            return int(conn.execute(sa.text(sql), {"s": since.replace(tzinfo=None)}).scalar_one())
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "cell",
    [
        f"%wfnb history --limit {HUGE}",
        f"%wfnb failures --limit {HUGE}",
        f"%wfnb graph invoice --depth {HUGE}",
        "%wfnb graph invoice --depth -1",
        "%wfnb history --since 2026-06-01x10",
        "%wfnb history --until 2026-06-01+02:00",
        "%wfnb failures --since 2026-06-01T10",
        "%wfnb conformance --now 2026-06-01x10",
        "%wfnb graph invoice --heat --since 2026-06-01x10",
        "%wfnb graph invoice --since 2026-01-01",
    ],
)
def test_a_bad_number_or_date_is_one_wf400_line(
    ip: Shell,
    filled: dict[str, str],
    cell: str,
) -> None:
    ran = ip.run(cell)
    assert not ran.success
    assert_one_line_error(ran.output, "WF400")


@pytest.mark.parametrize("value", ["'abc'", "10**30", "2.5"])
def test_a_bad_row_limit_is_one_wf400_line_and_the_old_value_stands(
    ip: Shell,
    filled: dict[str, str],
    value: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert ip.run("%config WfnbMagics.row_limit = 1").success
    caplog.clear()
    ran = ip.run(f"%config WfnbMagics.row_limit = {value}")  # %config logs its error
    shown = ran.output + "\n".join(r.getMessage() for r in caplog.records)
    assert_one_line_error(shown, "WF400")
    assert shown.strip().startswith("WF400: WfnbMagics.row_limit must be a whole number")
    assert ip.run("one = %wfnb history").success
    assert len(ip.ns["one"]) == 1


def test_limit_zero_reads_every_row_like_row_limit_zero(
    ip: Shell,
    filled: dict[str, str],
) -> None:
    assert ip.run("%config WfnbMagics.row_limit = 1").success
    ran = ip.run("every = %wfnb history --limit 0")
    assert ran.success, ran.output
    assert len(ip.ns["every"]) == _count(filled["url"]) > 1


def test_since_with_an_offset_is_converted_to_utc(
    ip: Shell,
    filled: dict[str, str],
) -> None:
    first = ip.run("h = %wfnb history --all")
    assert first.success, first.output
    stamps = sorted(ip.ns["h"]["changed_at"])
    middle = stamps[len(stamps) // 2].to_pydatetime().astimezone(UTC)
    local = middle.astimezone(datetime.now(UTC).astimezone().tzinfo).replace(microsecond=0)
    shifted = middle.replace(microsecond=0).astimezone(
        datetime.fromisoformat("2026-01-01T00:00+05:30").tzinfo
    )
    for moment in {local, shifted}:
        ran = ip.run(f"w = %wfnb history --all --since '{moment.isoformat()}'")
        assert ran.success, ran.output
        assert len(ip.ns["w"]) == _count(filled["url"], moment.astimezone(UTC))


def test_graph_heat_takes_since_until_and_tenant(
    ip: Shell,
    filled: dict[str, str],
) -> None:
    every = ip.run("%wfnb graph user_registration --heat")
    assert every.success, every.output
    early = ip.run("%wfnb graph user_registration --heat --since 2000-01-01 --until 2999-01-01")
    assert early.success, early.output
    future = ip.run("%wfnb graph user_registration --heat --since 2999-01-01")
    assert future.success, future.output
    other = ip.run("%wfnb graph user_registration --heat --tenant nobody")
    assert other.success, other.output
    assert early.result.dot == every.result.dot
    assert future.result.dot != every.result.dot
    # another tenant's heat is this one's none; --tenant also says whose config is drawn
    assert other.result.ir.edges == future.result.ir.edges
    assert "as tenant nobody runs it (no overlay: the base)" in other.result.ir.title

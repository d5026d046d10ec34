"""``dry_run``'s own arguments (``wfnb.sandbox.arguments``): bad ones are one coded error
before any sandbox opens, the same on SQLite and PostgreSQL, and the source is unchanged."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import wfnb.sandbox
from tests.unit.sandbox.sources import NOTES, TENANTED_WFS, checksum, fill_tenants
from wfnb.engine import Outcome
from wfnb.engine.usecases import Result, StepContext
from wfnb.exceptions import WfnbError
from wfnb.sandbox import dry_run


@pytest.fixture
def source(db_url: str) -> Iterator[str]:
    fill_tenants(db_url)
    yield db_url
    wfnb.sandbox.hosts.close_all()


def _deep(levels: int) -> Any:
    value: Any = {"k": 1}
    for _ in range(levels):
        value = {"a": value}
    return value


BAD: dict[str, tuple[dict[str, Any], str]] = {
    "step-10k-deep": ({"step": _deep(10_000)}, "WF100"),
    "use-cases-a-list": ({"use_cases": [1]}, "WF400"),
    "use-cases-int-keys": ({"use_cases": {1: print}}, "WF400"),
    "tables-an-int": ({"tables": 5}, "WF400"),
    "tenant-an-int": ({"tenant_id": 5}, "WF208"),
    "tenant-with-nul": ({"tenant_id": "acme\x00"}, "WF208"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_dry_run_argument_is_one_coded_error(source: str, case: str) -> None:
    kwargs, code = BAD[case]
    args: dict[str, Any] = {"step": "resolve", "tenant_id": "acme", **kwargs}
    before = checksum(source)
    with pytest.raises(WfnbError) as raised:
        dry_run(source, TENANTED_WFS, "ticket", "a1", "admin", **args)
    assert raised.value.code == code
    assert checksum(source) == before


def _writes_a_note(ctx: StepContext) -> Result:
    ctx.conn.execute(NOTES.insert().values(entity_id=ctx.entity_id, body="n"))
    return Result.ok()


@pytest.mark.parametrize(
    "tables", ["notes", ("notes", "tickets")], ids=["one-name-alone", "with-the-entity-table"]
)
def test_tables_takes_one_name_alone_and_leaves_the_entity_table_out(
    source: str, tables: Any
) -> None:
    before = checksum(source)
    dr = dry_run(
        source, TENANTED_WFS, "ticket", "a1", "admin", step="resolve", tenant_id="acme",
        use_cases={"act": _writes_a_note}, tables=tables,
    )  # fmt: skip
    assert dr.result.outcome is Outcome.TRANSITIONED, dr.why
    assert checksum(source) == before

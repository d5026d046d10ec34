"""Bad input is refused with WF208 (or WF201) on every entry point, the same on both dialects.

Ids too long for the history's columns, ids of the wrong type, payloads nested too deeply,
use-case results the engine cannot record: nothing is written, nothing is cut short.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from tests.unit.engine.conftest import Build, history, rows, status_of
from wfnb import testing
from wfnb.engine import Engine, Outcome
from wfnb.engine.inputs import MAX_PAYLOAD_DEPTH, parse_payload, text_limit
from wfnb.engine.results import StepResult
from wfnb.engine.usecases import Result, ResultKind, StepContext
from wfnb.exceptions import InvalidPayloadError

# --- Item 5: a use case's Result is checked ------------------------------------------


def _returning(build: Build, out: Callable[[], Any]) -> Engine:
    engine, wf = build(entities=1)
    engine.use_cases.override(wf, "act", lambda _ctx: out())
    return engine


def test_a_result_kind_given_as_text_is_that_kind_never_success(build: Build) -> None:
    engine = _returning(build, lambda: Result("failed", code="BANK_DOWN", message="down"))  # type: ignore[arg-type]
    failed = engine.execute_step("ticket", "e0", "admin")
    assert failed.error is not None
    assert (failed.outcome, failed.error.code) == (Outcome.FAILED, "WF205")
    assert failed.error.fields["failure_code"] == "BANK_DOWN"
    assert status_of(engine, "e0") == ("draft", 0)
    assert history(engine, "e0") == []
    assert Result("rejected", reason="no").kind is ResultKind.REJECTED  # type: ignore[arg-type]


def test_a_result_kind_rejected_as_text_takes_the_rejection_path(build: Build) -> None:
    engine = _returning(build, lambda: Result("rejected", reason="no"))  # type: ignore[arg-type]
    result = engine.execute_step("ticket", "e0", "admin")
    assert result.outcome is Outcome.REJECTED
    assert history(engine, "e0") == [("rejected", "draft", "draft")]


def _forced_kind() -> Result:
    result = Result.ok()
    object.__setattr__(result, "kind", "bogus")  # built around __init__'s check
    return result


@pytest.mark.parametrize(
    "out",
    [
        lambda: Result("bogus"),  # type: ignore[arg-type]
        lambda: Result(None),  # type: ignore[arg-type]
        _forced_kind,
        lambda: Result.reject(object()),  # type: ignore[arg-type]
        lambda: Result.fail("X" * 65, "a failure code longer than the failure log stores"),
        lambda: Result.ok(note="nul\x00byte"),
        lambda: Result.reject("nul\x00in the reason"),
        lambda: "ok",
    ],
    ids=["unknown", "none", "forced", "reason-obj", "long-code", "nul-meta", "nul-reason", "str"],
)
def test_a_result_the_engine_cannot_record_is_wf206_and_keeps_nothing(
    build: Build, out: Callable[[], Any]
) -> None:
    engine = _returning(build, out)
    result = engine.execute_step("ticket", "e0", "admin")
    assert result.error is not None
    assert (result.outcome, result.error.code) == (Outcome.FAILED, "WF206")
    assert status_of(engine, "e0") == ("draft", 0)
    assert history(engine, "e0") == []


def test_a_batch_result_the_engine_cannot_record_is_wf206(build: Build) -> None:
    engine = _returning(build, lambda: Result.reject(object()))  # type: ignore[arg-type]
    (result,) = engine.execute_batch("ticket", ["e0"], "admin")
    assert result.error is not None
    assert result.error.code == "WF206"
    assert status_of(engine, "e0") == ("draft", 0)


# --- Item 6: ids no longer than the columns that store them ---------------------------

LONG_IDS = {
    "tenant_id": "t" * (text_limit("tenant_id") + 1),
    "correlation_id": "c" * (text_limit("correlation_id") + 1),
    "user_id": "u" * (text_limit("user_id") + 1),
}


def _entry(engine: Engine, entry: str, **ids: str) -> list[StepResult]:
    if entry == "execute_step":
        return [engine.execute_step("ticket", "e0", "admin", **ids)]
    if entry == "execute_batch":
        return engine.execute_batch("ticket", ["e0", "e1"], "admin", **ids)
    if entry == "observe":
        ids.pop("user_id", None)
        return [engine.observe("ticket", "e0", "closed", source="email", **ids)]
    return [engine.created("ticket", "e0", **ids)]


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        (entry, field)
        for entry in ("execute_step", "execute_batch", "observe", "created")
        for field in sorted(LONG_IDS)
        if not (entry == "observe" and field == "user_id")  # observe takes no user id
    ],
)
def test_an_over_long_id_is_wf208_on_every_entry_point_and_writes_nothing(
    build: Build, entry: str, field: str
) -> None:
    status = "triaged" if entry == "observe" else None
    engine, _ = build(entities=2, status=status)
    results = _entry(engine, entry, **{field: LONG_IDS[field]})
    assert results
    for result in results:
        assert result.error is not None
        assert (result.outcome, result.error.code) == (Outcome.FAILED, "WF208")
        assert field in result.error.message
    assert rows(engine, "SELECT * FROM workflow_history") == []
    assert status_of(engine, "e0") == (status or "draft", 0)


def test_ids_as_long_as_their_columns_are_stored_whole(build: Build) -> None:
    engine, _ = build(entities=1)
    whole = {name: value[:-1] for name, value in LONG_IDS.items()}
    result = engine.execute_step("ticket", "e0", "admin", **whole)
    assert result.ok
    (row,) = rows(engine, "SELECT tenant_id, correlation_id, user_id FROM workflow_history")
    assert tuple(row) == (whole["tenant_id"], whole["correlation_id"], whole["user_id"])


def test_an_over_long_requester_type_of_created_is_wf208(build: Build) -> None:
    engine, _ = build(entities=1)
    result = engine.created("ticket", "e0", requester_type="r" * 129)
    assert result.error is not None
    assert result.error.code == "WF208"
    assert rows(engine, "SELECT * FROM workflow_history") == []


def test_an_id_with_a_nul_character_is_wf208_on_both_dialects(build: Build) -> None:
    engine, _ = build(entities=1)
    for result in (
        engine.execute_step("ticket", "e0", "admin", user_id="u\x00"),
        engine.execute_step("ticket", "e\x00", "admin"),
        engine.execute_batch("ticket", ["e\x00"], "admin")[0],
    ):
        assert result.error is not None
        assert result.error.code == "WF208"
    assert status_of(engine, "e0") == ("draft", 0)


# --- Low: entity ids of the wrong type ------------------------------------------------


@pytest.mark.parametrize("bad", [1.5, None, True, b"e0", {"id": "e0"}, ["e0"], object(), "e" * 256])
def test_an_entity_id_of_the_wrong_type_is_wf208(build: Build, bad: Any) -> None:
    engine, _ = build(entities=1)
    for result in (
        engine.execute_step("ticket", bad, "admin"),
        engine.observe("ticket", bad, "closed", source="email"),
        engine.execute_batch("ticket", [bad], "admin")[0],
    ):
        assert result.error is not None
        assert (result.outcome, result.error.code) == (Outcome.FAILED, "WF208")
    assert rows(engine, "SELECT * FROM workflow_history") == []


def test_an_unhashable_id_fails_alone_in_its_batch(build: Build) -> None:
    engine, _ = build(entities=2)
    results = engine.execute_batch("ticket", [["e0"], "e1", {"x": 1}, "e1"], "admin")
    assert [r.entity_id for r in results] == ["['e0']", "e1", "{'x': 1}"]
    assert [r.error.code if r.error else None for r in results] == ["WF208", None, "WF208"]
    assert status_of(engine, "e1") == ("triaged", 1)
    assert status_of(engine, "e0") == ("draft", 0)


@pytest.mark.parametrize("ids", ["e0", b"e0", 7, {"e0": 1}])
def test_a_string_as_the_id_list_is_one_wf208_never_its_characters(build: Build, ids: Any) -> None:
    engine, wf = build(entities=0)
    testing.insert_entities(engine.db, wf, ["e", "0", "e0"])
    (result,) = engine.execute_batch("ticket", ids, "admin")
    assert result.error is not None
    assert result.error.code == "WF208"
    assert rows(engine, "SELECT * FROM workflow_history") == []


def test_an_integer_id_finds_its_entity_in_a_text_id_table(build: Build) -> None:
    engine, wf = build(entities=0)
    testing.insert_entities(engine.db, wf, ["7", "8"])
    assert engine.execute_step("ticket", 7, "admin").to_status == "triaged"
    assert [r.to_status for r in engine.execute_batch("ticket", [8], "admin")] == ["triaged"]


@pytest.fixture
def numbered(db_url: str) -> Any:
    """An engine over a table whose ids are integers (entities 1 and 2)."""
    wf = testing.make_workflow(entity={"table": "numbered"})
    engine = Engine([wf], db_url)
    engine.install()
    testing.create_entity_table(engine.db, wf, id_type=sa.BigInteger)
    testing.insert_entities(engine.db, wf, [1, 2])
    yield engine
    engine.dispose()


@pytest.mark.parametrize("missing", ["abc", "1.5", str(2**63), 2**63, -(2**64), "\uff11"])
def test_an_id_an_integer_column_cannot_hold_is_wf201(numbered: Engine, missing: Any) -> None:
    for result in (
        numbered.execute_step("ticket", missing, "admin"),
        numbered.execute_batch("ticket", [missing, 2], "admin")[0],
        numbered.created("ticket", missing),
    ):
        assert result.error is not None
        assert (result.outcome, result.error.code) == (Outcome.FAILED, "WF201")
    assert numbered.execute_step("ticket", "1", "admin").to_status == "triaged"


# --- Item 8: deep JSON ------------------------------------------------------------------


def _nested(levels: int) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for _ in range(levels - 1):
        data = {"a": data}
    return data


@pytest.mark.parametrize("entry", ["execute_step", "execute_batch", "observe"])
def test_a_payload_nested_ten_thousand_levels_is_wf208(build: Build, entry: str) -> None:
    engine, _ = build(entities=1, status="triaged" if entry == "observe" else None)
    deep = _nested(10_000)
    if entry == "execute_step":
        result = engine.execute_step("ticket", "e0", "admin", data=deep)
    elif entry == "execute_batch":
        (result,) = engine.execute_batch("ticket", ["e0"], "admin", data=deep)
    else:
        result = engine.observe("ticket", "e0", "closed", source="email", data=deep)
    assert result.error is not None
    assert (result.outcome, result.error.code) == (Outcome.FAILED, "WF208")
    assert testing.CALLS == {}
    assert rows(engine, "SELECT * FROM workflow_history") == []


def test_the_depth_limit_is_exact(build: Build) -> None:
    engine, _ = build(entities=2)
    at_limit = engine.execute_step("ticket", "e0", "admin", data=_nested(MAX_PAYLOAD_DEPTH))
    over = engine.execute_step("ticket", "e1", "admin", data=_nested(MAX_PAYLOAD_DEPTH + 1))
    assert at_limit.ok
    assert over.error is not None
    assert over.error.code == "WF208"


def test_a_self_referencing_or_exploding_payload_is_wf208(build: Build) -> None:
    engine, _ = build(entities=1)
    loop: dict[str, Any] = {}
    loop["me"] = loop
    shared: list[Any] = []
    for _ in range(40):  # 2**40 values when written out: refused before json.dumps
        shared = [shared, shared]
    for data in (loop, {"x": shared}):
        result = engine.execute_step("ticket", "e0", "admin", data=data)
        assert result.error is not None
        assert result.error.code == "WF208"


def test_a_payload_given_as_deep_json_text_is_wf208() -> None:
    for text in ("[" * 10_000 + "]" * 10_000, '{"a":' * 100 + "1" + "}" * 100, "[1]", "{"):
        with pytest.raises(InvalidPayloadError) as caught:
            parse_payload(text)
        assert caught.value.code == "WF208"
    assert parse_payload('{"a": {"b": [1]}}') == {"a": {"b": [1]}}


# --- Low: every entity has its own payload; the caller's is never changed ---------------


def test_each_entity_gets_its_own_copy_and_the_callers_payload_is_unchanged(
    build: Build,
) -> None:
    engine, wf = build(entities=3)
    seen: list[Any] = []

    def mutates(ctx: StepContext) -> Result:
        seen.append(copy.deepcopy(dict(ctx.data)))
        ctx.data["items"].append(ctx.entity_id)  # type: ignore[index]
        ctx.data["nested"]["n"] += 1  # type: ignore[index]
        ctx.data["mine"] = ctx.entity_id  # type: ignore[index]
        return Result.ok()

    engine.use_cases.override(wf, "act", mutates)
    payload = {"items": ["given"], "nested": {"n": 0}}
    before = copy.deepcopy(payload)
    results = engine.execute_batch("ticket", ["e0", "e1"], "admin", data=payload)
    assert all(r.ok for r in results)
    assert engine.execute_step("ticket", "e2", "admin", data=payload).ok
    assert payload == before
    assert seen == [before, before, before]


@pytest.mark.parametrize("bad", [{"id": "e0"}, 1.5, "e\x00", "e" * 256])
def test_explain_answers_wf208_for_a_bad_id_instead_of_a_store_error(
    build: Build, bad: Any
) -> None:
    engine, _ = build(entities=1)
    explanation = engine.explain("ticket", bad, "admin")
    assert explanation.error is not None
    assert explanation.error.code == "WF208"
    assert engine.explain("ticket", "e0", "admin", tenant_id="t\x00").error is not None

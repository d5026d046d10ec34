"""OCEL 2.0 (JSON): entity tables as object types, history rows as events.

Each entity is an object (id ``workflow:entity_id``, type its entity table, the case's
attributes as object attributes stamped with the time of its last row); each history row
is an event whose type is the activity, related to its entity with the qualifier
``entity``. Writing is one pass: events stream into the file while the objects go to a
spooled temporary file appended after them, and the (few) object and event types come
last (JSON members have no order). Reading loads the JSON document whole: OCEL has no
streaming form; events are taken in time order (file order between equal times).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import IO, Any

from wfnb.eventlog.fields import CASE_KEYS, EVENT_KEYS, FLOAT_KEYS, INT_KEYS, parse_time, utc
from wfnb.exceptions import EventLogError

__all__ = ["QUALIFIER", "read_ocel", "write_ocel"]

QUALIFIER = "entity"
"""The qualifier of the one relationship from an event to its entity."""
Read = tuple[dict[str, Any], dict[str, Any], tuple[int, int]]
_OWN = ("concept:name", "time:timestamp")


def _json(value: Any) -> Any:
    return utc(value).isoformat(timespec="microseconds") if isinstance(value, datetime) else value


def _kind(key: str) -> str:
    return "integer" if key in INT_KEYS else "float" if key in FLOAT_KEYS else "string"


def _object(case: dict[str, Any], last: datetime | None) -> str:
    stamp = _json(last) if last is not None else "1970-01-01T00:00:00+00:00"
    oid = f"{case['wfnb:workflow']}:{case['wfnb:entity_id']}"
    attrs = [{"name": k, "time": stamp, "value": _json(v)} for k, v in case.items()]
    body = {"id": oid, "type": case["wfnb:entity_table"], "attributes": attrs, "relationships": []}
    return json.dumps(body, ensure_ascii=False)


def write_ocel(out: IO[str], items: Iterable[tuple[str, dict[str, Any]]]) -> tuple[int, int]:
    """Write ``items`` as one OCEL 2.0 JSON document; returns (objects, events)."""
    object_types: set[str] = set()
    event_types: set[str] = set()
    cases = events = 0
    case: dict[str, Any] | None = None
    last: datetime | None = None
    with tempfile.SpooledTemporaryFile(max_size=1 << 22, mode="w+", encoding="utf-8") as spool:
        out.write('{"events": [')
        for what, attrs in items:
            if what == "case":
                if case is not None:
                    spool.write(("," if cases else "") + _object(case, last))
                    cases += 1
                case, last = attrs, None
                object_types.add(attrs["wfnb:entity_table"])
                continue
            assert case is not None  # an event always follows its case
            last = attrs["time:timestamp"]
            event_types.add(attrs["concept:name"])
            body = {
                "id": f"e{events + 1}",
                "type": attrs["concept:name"],
                "time": _json(last),
                "attributes": [
                    {"name": k, "value": _json(v)} for k, v in attrs.items() if k not in _OWN
                ],
                "relationships": [
                    {"objectId": f"{case['wfnb:workflow']}:{case['wfnb:entity_id']}",
                     "qualifier": QUALIFIER}
                ],
            }  # fmt: skip
            out.write(("," if events else "") + "\n" + json.dumps(body, ensure_ascii=False))
            events += 1
        if case is not None:
            spool.write(("," if cases else "") + _object(case, last))
            cases += 1
        out.write('\n],\n"objects": [')
        spool.seek(0)
        shutil.copyfileobj(spool, out)
    case_attrs = [{"name": k, "type": _kind(k)} for k in CASE_KEYS]
    event_attrs = [{"name": k, "type": _kind(k)} for k in EVENT_KEYS if k not in _OWN]
    types = {
        "objectTypes": [{"name": t, "attributes": case_attrs} for t in sorted(object_types)],
        "eventTypes": [{"name": t, "attributes": event_attrs} for t in sorted(event_types)],
    }
    out.write("],\n" + json.dumps(types, ensure_ascii=False)[1:] + "\n")
    return cases, events


def _fail(where: str, why: str) -> EventLogError:
    return EventLogError(f"{where}: {why}", position=where)


def _case_type(document: dict[str, Any], wanted: str | None, fallback: str | None) -> str | None:
    types = {str(o.get("type")) for o in document.get("objects", [])}
    if wanted is not None:
        return wanted
    if fallback in types or len(types) <= 1:
        return fallback if fallback in types else next(iter(types), None)
    raise _fail("objects", f"several object types ({', '.join(sorted(types))}): name one "
                "as the mapping's object_type")  # fmt: skip


def _related(event: dict[str, Any], number: int, known: set[str]) -> list[str]:
    """The object ids ``event`` relates to; a bad list or an unknown object is refused."""
    relations = event.get("relationships", [])
    if not isinstance(relations, list) or not all(isinstance(r, dict) for r in relations):
        raise _fail(f"event {number}", "relationships must be a list of objects")
    ids = [str(r.get("objectId")) for r in relations]
    missing = next((i for i in ids if i not in known), None)
    if missing is not None:
        raise _fail(f"event {number}", f"relates to object {missing[:80]!r}, not in objects")
    return ids


def read_ocel(
    stream: IO[bytes], object_type: str | None = None, fallback: str | None = None
) -> Iterator[Read]:
    """Each (event, related case object) of an OCEL 2.0 JSON log, in time order.

    Args:
        stream: the JSON document.
        object_type: the type whose objects are cases (default: ``fallback`` when the log
            has it, else the only type).
        fallback: the workflow's entity table.

    Raises:
        EventLogError: not JSON, or not OCEL 2.0 (WF401, at a line and column or event).
    """
    try:
        document = json.load(stream)
    except UnicodeDecodeError as exc:
        raise _fail(f"byte {exc.start}", "not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise _fail(f"line {exc.lineno}, column {exc.colno}", exc.msg) from None
    except RecursionError:
        raise _fail("line 1, column 1", "JSON nested too deeply") from None
    if not isinstance(document, dict) or not isinstance(document.get("events"), list):
        raise _fail("line 1, column 1", "not an OCEL 2.0 document (no events list)")
    objects = [o for o in document.get("objects") or [] if isinstance(o, dict) and "id" in o]
    ours = object_type is None and any(
        a.get("name") == "wfnb:workflow" for o in objects[:1] for a in o.get("attributes") or []
    )  # a wfnb export: every object is an entity, whatever its table
    kind = None if ours else _case_type(document, object_type, fallback)
    known = {str(o["id"]) for o in objects}
    cases: dict[str, dict[str, Any]] = {}
    for obj in objects:
        if kind is not None and obj.get("type") != kind:
            continue
        attrs = {a["name"]: a["value"] for a in obj.get("attributes") or [] if "name" in a}
        attrs.setdefault("concept:name", str(obj["id"]))
        cases[str(obj["id"])] = attrs
    timed = []
    for number, event in enumerate(document["events"], start=1):
        if not isinstance(event, dict) or "type" not in event or "time" not in event:
            raise _fail(f"event {number}", "an event needs a type and a time")
        try:
            timed.append((parse_time(event["time"]), number, event))
        except ValueError as exc:
            raise _fail(f"event {number}", str(exc)) from None
    timed.sort(key=lambda t: (t[0], t[1]))
    for stamp, number, event in timed:
        attrs = {a["name"]: a["value"] for a in event.get("attributes") or [] if "name" in a}
        attrs["concept:name"], attrs["time:timestamp"] = event["type"], stamp
        for object_id in _related(event, number, known):
            case = cases.get(object_id)
            if case is not None:
                yield case, attrs, (number, 0)

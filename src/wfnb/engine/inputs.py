"""What the engine takes from a caller, checked before anything is read or written.

Every entry point (``execute_step``, ``execute_batch``, ``observe``, ``created``, a timer's
job) checks its input here first; bad input is WF208 (``InvalidPayloadError``), the same on
SQLite and PostgreSQL, and nothing is written:

- the request context's ids: text no longer than the ``workflow_history`` columns that
  store them (``wfnb.store.tables`` is the one source of their lengths), without NUL
  characters (PostgreSQL cannot store them);
- an entity id: text or an integer, no longer than the history's ``entity_id`` column; an
  id the entity table's id column cannot hold (``"abc"`` for an integer column) is WF201,
  as no such entity can exist;
- a payload: a JSON object, at most ``MAX_PAYLOAD_DEPTH`` levels deep and at most
  ``max_payload_bytes`` as JSON. The engine keeps its own deep copy: the caller's objects
  are never handed to a use case, so nothing a use case does changes them.

See docs/limits.md.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from wfnb.engine.context import RequestContext
from wfnb.exceptions import EntityNotFoundError, InvalidPayloadError
from wfnb.store.tables import HISTORY

__all__ = [
    "MAX_PAYLOAD_DEPTH",
    "check_context",
    "check_json",
    "check_request",
    "check_tenant",
    "copy_json",
    "entity_key",
    "holds_nul",
    "parse_payload",
    "payload",
    "text_limit",
]

MAX_PAYLOAD_DEPTH = 64
"""How deeply a payload's objects and arrays may nest (the top-level object is level 1)."""

_INT64 = (-(2**63), 2**63 - 1)


def text_limit(column: str, table: sa.Table = HISTORY) -> int:
    """The length of ``<table>.<column>`` (``workflow_history`` by default).

    What an id or a name stored there may be at most.
    """
    length = getattr(table.c[column].type, "length", None)
    assert isinstance(length, int), column
    return length


_CONTEXT_LIMITS = (
    ("correlation_id", text_limit("correlation_id")),
    ("tenant_id", text_limit("tenant_id")),
    ("user_id", text_limit("user_id")),
    ("requester_type", text_limit("requester_type")),
)
_ENTITY_ID_LIMIT = text_limit("entity_id")


def _text_problem(value: str, limit: int) -> str | None:
    """Why ``value`` cannot be stored as text of at most ``limit`` characters (None: it can)."""
    if len(value) > limit:
        return f"is {len(value)} characters long, over the {limit} the history stores"
    if "\x00" in value:
        return "holds a NUL character"
    if not value.isascii():
        try:
            value.encode()
        except UnicodeEncodeError:
            return "is not valid Unicode text (a lone surrogate)"
    return None


def check_context(ctx: RequestContext) -> None:
    """The request context's ids fit the history's columns (``InvalidPayloadError``: WF208)."""
    for name, limit in _CONTEXT_LIMITS:
        value = getattr(ctx, name)
        if value is None:
            continue
        problem = (
            _text_problem(value, limit)
            if isinstance(value, str)
            else f"must be text, not {type(value).__name__}"
        )
        if problem is not None:
            raise InvalidPayloadError(f"{name} {problem}", field=name)


def check_tenant(tenant_id: Any) -> None:
    """A tenant id given alone (``explain``) fits the history (``InvalidPayloadError``)."""
    check_context(RequestContext(correlation_id="", tenant_id=tenant_id))


def check_request(ctx: RequestContext, table: sa.Table, id_column: str, entity_id: Any) -> Any:
    """``check_context`` then ``entity_key``: the id to look up, or WF208 / WF201 raised."""
    check_context(ctx)
    return entity_key(table, id_column, entity_id)


def entity_key(table: sa.Table, id_column: str, entity_id: Any) -> Any:
    """``entity_id`` as the entity table's id column holds it: an int or text.

    Raises:
        InvalidPayloadError: not text or an integer, or too long for the history (WF208).
        EntityNotFoundError: an id no row of this table can have, such as ``"abc"`` for an
            integer column (WF201).
    """
    if isinstance(entity_id, bool) or not isinstance(entity_id, str | int):
        raise InvalidPayloadError(
            f"an entity id is text or an integer, not {type(entity_id).__name__}",
            field="entity_id",
        )
    text = entity_id if isinstance(entity_id, str) else str(entity_id)
    problem = _text_problem(text, _ENTITY_ID_LIMIT)
    if problem is not None:
        raise InvalidPayloadError(f"entity id {problem}", field="entity_id")
    kind = _id_kind(table, id_column)
    if kind is int:
        number = _as_int(entity_id)
        if number is None:
            raise _not_found(table, text)
        return number
    if kind is uuid.UUID:
        try:
            uuid.UUID(text)
        except ValueError:
            raise _not_found(table, text) from None
    return text


def _as_int(value: str | int) -> int | None:
    if isinstance(value, str):
        digits = value[1:] if value[:1] in "+-" else value
        if not (digits.isascii() and digits.isdigit()):
            return None
        value = int(value)
    return value if _INT64[0] <= value <= _INT64[1] else None


def _not_found(table: sa.Table, text: str) -> EntityNotFoundError:
    return EntityNotFoundError(
        f"no entity {text!r} in {table.name!r}: its id column cannot hold that id",
        entity_id=text,
    )


@lru_cache(maxsize=256)
def _id_kind(table: sa.Table, column: str) -> type | None:
    """The Python type of the id column (asked once per table: ``python_type`` is slow)."""
    try:
        return table.c[column].type.python_type
    except NotImplementedError:
        return None


def check_json(
    value: Any,
    *,
    what: str = "payload",
    max_depth: int = MAX_PAYLOAD_DEPTH,
    max_values: int | None = None,
) -> str:
    """``value`` as compact JSON text, after checking its depth and that it can be stored.

    The depth is measured without recursion (a payload nested 10,000 levels is refused,
    never a ``RecursionError``); a cycle counts as too deep. ``max_values`` bounds the
    values visited, so a small object that shares one list many times over cannot make
    the walk (or ``json.dumps``) run for ever: every value costs at least one byte of JSON.

    Raises:
        InvalidPayloadError: too deep, too many values, not JSON-serialisable, or holding
            a NUL character.
    """
    _check_shape(value, what, max_depth, max_values)
    try:
        text = json.dumps(value, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidPayloadError(f"{what} is not JSON-serialisable: {exc}") from exc
    if "\\u0000" in text and holds_nul(value):
        raise InvalidPayloadError(f"{what} holds a NUL character, which PostgreSQL cannot store")
    return text


def _children(value: Any) -> Any:
    if isinstance(value, Mapping):
        return value.values()
    if isinstance(value, list | tuple):
        return value
    return None


def _check_shape(value: Any, what: str, max_depth: int, max_values: int | None) -> None:
    stack, seen = [(value, 1)], 0
    while stack:
        node, depth = stack.pop()
        children = _children(node)
        if children is None:
            continue
        if depth > max_depth:
            raise InvalidPayloadError(
                f"{what} nests more than {max_depth} levels (or refers to itself)",
                max_depth=max_depth,
            )
        seen += len(children)
        if max_values is not None and seen > max_values:
            raise InvalidPayloadError(f"{what} holds more than {max_values} values")
        stack.extend((child, depth + 1) for child in children if _children(child) is not None)


def holds_nul(value: Any) -> bool:
    """Whether any text (or key) inside ``value`` holds a NUL character."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if "\x00" in node:
                return True
        elif isinstance(node, Mapping):
            stack.extend(str(k) for k in node)
            stack.extend(node.values())
        elif isinstance(node, list | tuple):
            stack.extend(node)
    return False


def copy_json(value: Any) -> Any:
    """A deep copy of checked JSON data (objects become dicts; text and numbers are shared)."""
    if isinstance(value, Mapping):
        return {k: copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_json(v) for v in value]
    if isinstance(value, tuple):
        return tuple(copy_json(v) for v in value)
    return value


def payload(data: Any, limit: int) -> dict[str, Any]:
    """The caller's payload checked, as the engine's own deep copy (``{}`` for None).

    Raises:
        InvalidPayloadError: not a JSON object, too deep, not serialisable, or over
            ``limit`` bytes as JSON (WF208).
    """
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise InvalidPayloadError(f"payload must be a JSON object, not {type(data).__name__}")
    size = len(check_json(data, max_values=limit).encode())
    if size > limit:
        raise InvalidPayloadError(
            f"payload is {size} bytes, over the {limit}-byte limit", size=size
        )
    copied: dict[str, Any] = copy_json(data)
    return copied


def parse_payload(text: str) -> dict[str, Any]:
    """A payload given as JSON text (``--data`` of the CLI and the magics), checked.

    Raises:
        InvalidPayloadError: not JSON, not an object, or nested too deeply (WF208).
    """
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidPayloadError(f"payload is not JSON ({exc.msg})") from None
    except RecursionError:  # the parser recurses per level: far deeper than any limit
        raise InvalidPayloadError(
            f"payload nests more than {MAX_PAYLOAD_DEPTH} levels", max_depth=MAX_PAYLOAD_DEPTH
        ) from None
    if not isinstance(value, dict):
        raise InvalidPayloadError(f"payload must be a JSON object, not {type(value).__name__}")
    check_json(value)
    return value

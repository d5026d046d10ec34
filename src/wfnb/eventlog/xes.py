"""XES (IEEE 1849-2016) written and read as a stream, plain or gzip-compressed.

The writer emits text as cases and events arrive, never a tree: memory holds one event.
The reader feeds the file to expat in 64 KiB pieces and hands out each event as its
``</event>`` closes, with the case's attributes and its line and column; nested
(meta-)attributes, lists and containers are skipped, ``<global>`` defaults are not
applied. A file that is not well-formed XML, an attribute value of the wrong type or an
event outside a trace is :class:`~wfnb.exceptions.EventLogError` at its position.
"""

from __future__ import annotations

import functools
import math
import zlib
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import IO, Any
from xml.parsers import expat

from wfnb.eventlog.fields import parse_time, utc
from wfnb.exceptions import EventLogError

__all__ = ["XES_NAMESPACE", "read_xes", "write_xes"]

XES_NAMESPACE = "http://www.xes-standard.org/"
WFNB_EXTENSION = "urn:wfnb:xes:extension"
"""The ``wfnb`` extension's URI: its attributes are listed in ADR 0120."""

_HEADER = f"""<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1849.2016" xmlns="{XES_NAMESPACE}">
  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
  <extension name="Time" prefix="time" uri="http://www.xes-standard.org/time.xesext"/>
  <extension name="Lifecycle" prefix="lifecycle" uri="http://www.xes-standard.org/lifecycle.xesext"/>
  <extension name="Organizational" prefix="org" uri="http://www.xes-standard.org/org.xesext"/>
  <extension name="wfnb" prefix="wfnb" uri="{WFNB_EXTENSION}"/>
  <global scope="trace">
    <string key="concept:name" value="__INVALID__"/>
  </global>
  <global scope="event">
    <string key="concept:name" value="__INVALID__"/>
    <date key="time:timestamp" value="1970-01-01T00:00:00.000+00:00"/>
    <string key="lifecycle:transition" value="complete"/>
  </global>
  <classifier name="Activity" keys="concept:name"/>
  <classifier name="ActivityTransition" keys="concept:name lifecycle:transition"/>
"""
_ESCAPES = {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;", ord('"'): "&quot;",
            ord("\n"): "&#10;", ord("\r"): "&#13;", ord("\t"): "&#9;"}  # fmt: skip
_ESCAPES.update(
    {c: "\ufffd" for c in (*range(0x20), 0xFFFE, 0xFFFF) if c not in (0x09, 0x0A, 0x0D)}
)  # characters XML 1.0 cannot hold at all become U+FFFD (ADR 0120)
_ATTRIBUTES = frozenset({"string", "date", "int", "float", "boolean", "id", "list", "container"})


def _value(value: Any) -> tuple[str, str]:
    """The XES element and text of ``value``."""
    if isinstance(value, bool):
        return "boolean", "true" if value else "false"
    if isinstance(value, int):
        return "int", str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "float", "NaN"
        return "float", ("INF" if value > 0 else "-INF") if math.isinf(value) else repr(value)
    if isinstance(value, datetime):
        return "date", utc(value).isoformat(timespec="microseconds")
    return "string", str(value)


@functools.lru_cache(maxsize=512)
def _key(key: str) -> str:
    return key.translate(_ESCAPES)


def _element(key: str, value: Any, indent: str) -> str:
    tag, text = _value(value)
    return f'{indent}<{tag} key="{_key(key)}" value="{text.translate(_ESCAPES)}"/>\n'


def write_xes(
    out: IO[str], items: Iterable[tuple[str, dict[str, Any]]], log: dict[str, Any]
) -> tuple[int, int]:
    """Write ``items`` (``("case", attrs)`` then its ``("event", attrs)``) as one XES log.

    Returns:
        (cases, events) written.
    """
    out.write(_HEADER)
    out.writelines(_element(k, v, "  ") for k, v in log.items())
    cases = events = 0
    for what, attrs in items:
        if what == "case":
            out.write("  </trace>\n  <trace>\n" if cases else "  <trace>\n")
            cases += 1
            out.writelines(_element(k, v, "    ") for k, v in attrs.items())
        else:
            events += 1
            out.write("    <event>\n")
            out.writelines(_element(k, v, "      ") for k, v in attrs.items())
            out.write("    </event>\n")
    out.write("  </trace>\n</log>\n" if cases else "</log>\n")
    return cases, events


def _typed(tag: str, value: str) -> Any:
    if tag == "date":
        return parse_time(value)
    if tag == "int":
        return int(value)
    if tag == "float":
        return float(value)
    if tag == "boolean":
        if value.lower() not in {"true", "false"}:
            raise ValueError(f"not a boolean: {value!r}")
        return value.lower() == "true"
    return value


class _MisplacedError(ValueError):
    """A problem found at an element, with the element's (line, column)."""

    def __init__(self, where: tuple[int, int], message: str) -> None:
        super().__init__(message)
        self.where = where


class _Reader:
    """Expat handlers collecting finished events (see the module docstring)."""

    def __init__(self, parser: Any) -> None:
        self.parser = parser
        self.stack: list[str] = []
        self.case: dict[str, Any] = {}
        self.event: dict[str, Any] | None = None
        self.where = (0, 0)
        self.ready: list[tuple[dict[str, Any], dict[str, Any], tuple[int, int]]] = []
        self.log: dict[str, Any] = {}

    def here(self) -> tuple[int, int]:
        return self.parser.CurrentLineNumber, self.parser.CurrentColumnNumber + 1

    def start(self, name: str, attrs: dict[str, str]) -> None:
        try:
            self._start(name.rpartition(" ")[2], attrs)
        except (ValueError, TypeError) as exc:  # expat still stands at this element
            raise _MisplacedError(self.here(), str(exc)) from None

    def _start(self, tag: str, attrs: dict[str, str]) -> None:
        parent = self.stack[-1] if self.stack else None
        if parent is None and tag != "log":
            raise ValueError(f"the root element is <{tag}>, not an XES <log>")
        self.stack.append(tag)
        if tag == "trace":
            self.case = {}
        elif tag == "event":
            if parent != "trace":
                raise ValueError("an event outside a trace")
            self.event, self.where = {}, self.here()
        elif tag in _ATTRIBUTES and parent in {"event", "trace", "log"}:
            key = attrs.get("key")
            if key is None:
                raise ValueError(f"a <{tag}> without a key")
            if tag in {"list", "container"}:
                return
            if "value" not in attrs:
                raise ValueError(f"<{tag} key={key!r}> without a value")
            try:
                value = _typed(tag, attrs["value"])
            except ValueError:
                raise ValueError(
                    f"<{tag} key={key!r}>: {attrs['value']!r} is not a {tag}"
                ) from None
            target = {"event": self.event, "trace": self.case, "log": self.log}[parent]
            if target is not None:
                target[key] = value

    def end(self, name: str) -> None:
        tag = self.stack.pop()
        if tag == "event" and self.event is not None:
            self.ready.append((self.case, self.event, self.where))
            self.event = None


Read = tuple[dict[str, Any], dict[str, Any], tuple[int, int]]


def read_xes(stream: IO[bytes], chunk: int = 1 << 16) -> Iterator[Read]:
    """Each event of an XES stream as (case attributes, event attributes, (line, column)).

    Raises:
        EventLogError: not well-formed XML, or not XES as described above (WF401).
    """
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    reader = _Reader(parser)
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    while True:
        try:
            data = stream.read(chunk)
        except (OSError, EOFError, zlib.error) as exc:
            line, column = reader.here()
            where = f"line {line}, column {column}"
            raise EventLogError(f"{where}: cannot read on: {exc}", position=where) from None
        try:
            parser.Parse(data, not data)
        except expat.ExpatError as exc:
            where = f"line {exc.lineno}, column {exc.offset + 1}"
            why = expat.ErrorString(exc.code)
            raise EventLogError(f"{where}: not well-formed XML: {why}", position=where) from None
        except _MisplacedError as exc:
            line, column = exc.where
            where = f"line {line}, column {column}"
            raise EventLogError(f"{where}: {exc}", position=where) from None
        yield from reader.ready
        reader.ready.clear()
        if not data:
            break

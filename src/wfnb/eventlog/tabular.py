"""Event logs as tables: CSV (plain or .gz) and Parquet, written and read as streams.

One row per event, with the case's attributes repeated under a ``case:`` prefix (pm4py's
convention: ``case:concept:name``). CSV holds text (times in ISO 8601 with their offset,
empty for a missing value); Parquet is typed (UTC microsecond timestamps, int64, float64,
strings) and written one row group per batch with pyarrow's ``ParquetWriter``, so memory
holds one batch either way. Rows of a case are taken in file order.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import IO, Any

from wfnb.eventlog.fields import CASE_KEYS, EVENT_KEYS, FLOAT_KEYS, INT_KEYS, utc
from wfnb.exceptions import EventLogError, WfnbUsageError

__all__ = ["COLUMNS", "read_csv", "read_parquet", "write_csv", "write_parquet"]

CASE = "case:"
COLUMNS: tuple[str, ...] = (*(CASE + k for k in CASE_KEYS), *EVENT_KEYS)
"""The columns an exported table has, in order."""
BATCH = 50_000
Read = tuple[dict[str, Any], dict[str, Any], tuple[int, int]]


class _Rows:
    """The flat rows of an export stream, counting its cases."""

    def __init__(self, items: Iterable[tuple[str, dict[str, Any]]]) -> None:
        self.items = items
        self.cases = 0

    def __iter__(self) -> Iterator[dict[str, Any]]:
        case: dict[str, Any] = {}
        for what, attrs in self.items:
            if what == "case":
                case = {CASE + k: v for k, v in attrs.items()}
                self.cases += 1
            else:
                yield {**case, **attrs}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return utc(value).isoformat(timespec="microseconds")
    return str(value)


def write_csv(out: IO[str], items: Iterable[tuple[str, dict[str, Any]]]) -> tuple[int, int]:
    """Write the events of ``items`` as CSV with a header; returns (cases, rows)."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    count = 0
    rows = _Rows(items)
    for row in rows:
        writer.writerow([_text(row.get(c)) for c in COLUMNS])
        count += 1
    return rows.cases, count


def _arrow() -> Any:
    try:
        import pyarrow as pa  # noqa: PLC0415  # optional, heavy
        import pyarrow.parquet as pq  # noqa: PLC0415
    except ImportError:
        raise WfnbUsageError(
            "Parquet needs pyarrow: pip install 'wfnb[eventlog]'", value="parquet"
        ) from None
    return pa, pq


def _schema(pa: Any) -> Any:
    def kind(column: str) -> Any:
        key = column.removeprefix(CASE)
        if column == "time:timestamp":
            return pa.timestamp("us", tz="UTC")
        if key in INT_KEYS:
            return pa.int64()
        return pa.float64() if key in FLOAT_KEYS else pa.string()

    return pa.schema([(c, kind(c)) for c in COLUMNS])


def write_parquet(path: str, items: Iterable[tuple[str, dict[str, Any]]]) -> tuple[int, int]:
    """Write the events of ``items`` to a Parquet file, a row group per batch; (cases, rows)."""
    pa, pq = _arrow()
    schema = _schema(pa)
    count = 0
    with pq.ParquetWriter(path, schema) as writer:
        batch: list[dict[str, Any]] = []
        rows = _Rows(items)
        for row in rows:
            batch.append(row)
            if len(batch) >= BATCH:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                count += len(batch)
                batch.clear()
        if batch or not count:
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
            count += len(batch)
    return rows.cases, count


def _split(row: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    case: dict[str, Any] = {}
    event: dict[str, Any] = {}
    for key, value in row.items():
        if value is None or value == "":
            continue
        if key.startswith(CASE):
            case[key[len(CASE) :]] = value
        else:
            event[key] = value
    return case, event


def _check_width(row: dict[Any, Any], header: Any) -> None:
    if header is None:
        raise ValueError("empty file: no header")
    if None in row:
        raise ValueError(f"more fields than the header's {len(header)}")


def _check_case_column(header: Sequence[str] | None, case_columns: Sequence[str]) -> None:
    if case_columns and header is not None and not set(case_columns) & set(header):
        shown = ", ".join(repr(h[:40]) for h in header[:10])
        more = ", ..." if len(header) > 10 else ""
        why = f"no column {case_columns[0]!r} (columns: {shown}{more})"
        raise EventLogError(f"header: {why}", position="header")


def read_csv(stream: IO[bytes], case_columns: Sequence[str] = ()) -> Iterator[Read]:
    """Each row of a CSV log (UTF-8, header first) as (case, event, (row, 0)).

    ``case_columns``: a header naming none of them is refused (the first is quoted).

    Raises:
        EventLogError: not UTF-8, a malformed row, more fields than the header, or no
            case column (WF401).
    """
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    reader = csv.DictReader(text)
    number = 0
    try:
        _check_case_column(reader.fieldnames, case_columns)
        for number, row in enumerate(reader, start=1):
            _check_width(row, reader.fieldnames)
            case, event = _split(row)
            yield case, event, (number, 0)
        _check_width({}, reader.fieldnames)
    except EventLogError:
        raise
    except (csv.Error, UnicodeDecodeError, ValueError, OSError, EOFError) as exc:
        where = f"row {number + (0 if isinstance(exc, ValueError) else 1)}"
        raise EventLogError(f"{where}: {exc}", position=where) from None
    finally:
        text.detach()  # the caller closes the file; a collected wrapper must not


def read_parquet(path: str) -> Iterator[Read]:
    """Each row of a Parquet log as (case, event, (row, 0)), a batch at a time.

    Raises:
        EventLogError: not a Parquet file, or unreadable (WF401).
    """
    pa, pq = _arrow()
    number = 0
    try:
        source = pq.ParquetFile(path)
        for batch in source.iter_batches(batch_size=10_000):
            for row in batch.to_pylist():
                number += 1
                case, event = _split(row)
                yield case, event, (number, 0)
    except (pa.ArrowException, OSError) as exc:
        where = f"row {number + 1}"
        raise EventLogError(
            f"{where}: not a readable Parquet file: {exc}", position=where
        ) from None

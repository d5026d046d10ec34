"""Which event-log format a file is: by name, or as asked."""

from __future__ import annotations

import os
from pathlib import Path

from wfnb.exceptions import WfnbUsageError

__all__ = ["FORMATS", "format_of"]

FORMATS: tuple[str, ...] = ("xes", "ocel2", "csv", "parquet")
_SUFFIXES = {
    ".xes": "xes", ".xes.gz": "xes", ".xml": "xes", ".json": "ocel2", ".jsonocel": "ocel2",
    ".csv": "csv", ".csv.gz": "csv", ".parquet": "parquet",
}  # fmt: skip


def format_of(path: str | os.PathLike[str], format: str | None = None) -> str:  # noqa: A002
    """The log format: ``format`` if given, else from the file name (WF400 if neither)."""
    if format is not None:
        if format not in FORMATS:
            raise WfnbUsageError(f"format must be one of {', '.join(FORMATS)}, not {format!r}")
        return format
    name = Path(path).name.lower()
    for suffix in sorted(_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return _SUFFIXES[suffix]
    raise WfnbUsageError(
        f"cannot tell the format of {name!r} from its name: give format= ({', '.join(FORMATS)})"
    )

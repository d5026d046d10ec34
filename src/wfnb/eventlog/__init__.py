"""Event logs: the history exported to, and imported from, process-mining formats.

XES (IEEE 1849-2016, plain or gzip), OCEL 2.0 JSON, CSV and Parquet, all streamed
(ADR 0120). :func:`export_log` and :func:`import_log` are the entry points.
"""

from wfnb.eventlog.exporting import ExportReport, export_log
from wfnb.eventlog.formats import FORMATS, format_of
from wfnb.eventlog.importing import ImportReport, import_log
from wfnb.eventlog.mapping import LogMapping

__all__ = [
    "FORMATS",
    "ExportReport",
    "ImportReport",
    "LogMapping",
    "export_log",
    "format_of",
    "import_log",
]

"""The audit trail of an analysis: which configs, which SQL, which result, for each magic.

A magic that reads the database runs inside ``capture(engine)``: every statement the
engine sends is recorded. The ``AuditRecord`` (config hashes, SQL, a hash of the result)
then lands in the output's metadata (``application/vnd.wfnb.audit+json``) and in a compact
footer under the cell, so a saved notebook shows which query on which config produced a
figure, and anyone can re-run the SQL and compare the hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from html import escape
from typing import Any

import sqlalchemy as sa

__all__ = ["AUDIT_MIME", "AuditRecord", "capture", "result_hash"]

AUDIT_MIME = "application/vnd.wfnb.audit+json"


@dataclass(frozen=True)
class AuditRecord:
    """What one magic read: its command, configs, SQL statements and the result's hash."""

    command: str
    config_hashes: Mapping[str, str]
    sql: tuple[str, ...]
    result_sha256: str
    database: str
    extra: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (what the output's metadata holds)."""
        return {
            "command": self.command,
            "config_hashes": dict(self.config_hashes),
            "sql": list(self.sql),
            "result_sha256": self.result_sha256,
            "database": self.database,
            **dict(self.extra),
        }

    def _repr_mimebundle_(self, **_: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        configs = ", ".join(f"{k}@{v[:12]}" for k, v in sorted(self.config_hashes.items()))
        plain = (
            f"wfnb audit: {self.command} | configs {configs or '-'} | "
            f"{len(self.sql)} SQL statement(s) | result sha256 {self.result_sha256[:16]}"
        )
        sql = escape("\n\n".join(self.sql))
        html = (
            "<details style='font-size:80%;color:#555'><summary>"
            f"audit: <code>{escape(self.command)}</code> · configs {escape(configs or '-')} · "
            f"{len(self.sql)} SQL · result <code>{self.result_sha256[:16]}</code></summary>"
            f"<div>database: <code>{escape(self.database)}</code></div>"
            f"<pre>{sql}</pre></details>"
        )
        data = {"text/plain": plain, "text/html": html, AUDIT_MIME: self.as_dict()}
        return data, {AUDIT_MIME: self.as_dict()}


def result_hash(result: Any) -> str:
    """sha256 of a result's content: a DataFrame's CSV, or an object's plain text."""
    to_csv = getattr(result, "to_csv", None)
    if callable(to_csv):
        text = str(to_csv(index=False))
    else:
        frame = getattr(result, "to_frame", None)
        text = str(frame().to_csv(index=False)) if callable(frame) else str(result)
    return hashlib.sha256(text.encode()).hexdigest()


@contextmanager
def capture(engine: sa.Engine) -> Iterator[list[str]]:
    """Record every SQL statement ``engine`` executes inside the block, with its parameters."""
    statements: list[str] = []

    def record(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _ctx: Any, many: bool
    ) -> None:
        shown = "[executemany]" if many else json.dumps(parameters, default=str)[:500]
        statements.append(f"{' '.join(statement.split())}\n-- parameters: {shown}")

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)

"""``--log-format json|text`` of ``wfnb worker`` and ``python -m wfnb.timers.worker_main``.

The end-to-end proof (a real worker's stdout parsing as JSON lines) is in
tests/integration/test_worker_logs_pg.py; these check the flag itself.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from wfnb.cli import main as wfnb
from wfnb.timers import worker_main

PG = "postgresql+psycopg://nobody@127.0.0.1:1/none"


def test_the_worker_parser_takes_json_or_text() -> None:
    parser = worker_main.build_parser()
    assert parser.parse_args(["--db", PG, "--runner", "m:f"]).log_format == "text"
    args = parser.parse_args(["--db", PG, "--runner", "m:f", "--log-format", "json"])
    assert args.log_format == "json"


def test_wfnb_worker_passes_the_log_format_on(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []

    def fake_main(argv: Sequence[str] | None = None) -> int:
        seen.append(list(argv or []))
        return 0

    monkeypatch.setattr(worker_main, "main", fake_main)
    monkeypatch.setattr("wfnb.cli_runtime.existing_database", lambda url: url)  # no server here
    assert wfnb(["worker", "workflows", "--db", PG, "--log-format", "json"]) == 0
    assert wfnb(["worker", "workflows", "--db", PG]) == 0
    json_argv, text_argv = seen
    assert json_argv[json_argv.index("--log-format") + 1] == "json"
    assert text_argv[text_argv.index("--log-format") + 1] == "text"


def test_an_unknown_log_format_is_one_usage_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert wfnb(["worker", "workflows", "--db", PG, "--log-format", "xml"]) == 2
    err = capsys.readouterr().err
    assert "--log-format" in err
    assert "Traceback" not in err

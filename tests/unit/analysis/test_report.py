"""The reviewers' HTML report: self-contained, well-formed, escaped, complete."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import WORKFLOWS
from wfnb import testing
from wfnb.analysis.report import ReportPath, report
from wfnb.engine import Engine
from wfnb.exceptions import WfnbUsageError
from wfnb.validation import load_workflows

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}  # fmt: skip


class Checker(HTMLParser):
    """Counts elements and records every mis-nested or unclosed tag."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: Counter[str] = Counter()
        self.ids: Counter[str] = Counter()
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        self.ids.update(v for k, v in attrs if k == "id" and v)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'} at {self.getpos()}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(text: str) -> Checker:
    checker = Checker()
    checker.feed(text)
    checker.close()
    return checker


@pytest.fixture(scope="module")
def example_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    path = report(load_workflows(WORKFLOWS), tmp_path_factory.mktemp("r") / "out" / "r.html")
    return path, path.read_text(encoding="utf-8")


def test_report_is_well_formed_html(example_report: tuple[Path, str]) -> None:
    _, text = example_report
    checker = parse(text)
    assert text.startswith("<!DOCTYPE html>")
    assert checker.errors == []
    assert checker.stack == []
    assert [i for i, n in checker.ids.items() if n > 1] == []


def test_report_has_a_diagram_and_the_tables_of_every_workflow(
    example_report: tuple[Path, str],
) -> None:
    _, text = example_report
    wfs = load_workflows(WORKFLOWS)
    checker = parse(text)
    assert checker.tags["svg"] == len(wfs)
    assert checker.tags["table"] >= 5 * len(wfs)
    words = " ".join(checker.text)
    for wf in wfs.values():
        assert f"id='wf-{wf.name}'" in text
        assert all(s.key in words for s in wf.steps)
        assert all(t.key in words for t in wf.timers)
        assert all(o.source in words for o in wf.observed_transitions)
    for heading in ("Statuses", "Steps", "Timers", "Observed transitions", "Paths", "Validation"):
        assert words.count(heading) >= len(wfs), heading
    assert "shortest path" in words


def test_report_loads_nothing_from_the_network(example_report: tuple[Path, str]) -> None:
    _, text = example_report
    attributes = re.findall(r"([\w:-]+)\s*=\s*[\"']?https?://", text)
    assert attributes, "the inline SVG declares its namespace"
    assert {a for a in attributes if not a.startswith("xmlns")} == set()
    assert text.count("<script") == 1  # the diagrams' pan and zoom, inline
    assert not re.search(r"<script[^>]*\bsrc=", text)
    assert "<link" not in text
    assert "@import" not in text
    assert not re.search(r"url\(\s*['\"]?https?:", text)


def test_report_escapes_what_the_workflow_says(tmp_path: Path) -> None:
    wf = testing.make_workflow(description="<script>alert('x')</script> & <b>bold</b>")
    text = report([wf], tmp_path / "r.html").read_text(encoding="utf-8")
    assert text.count("<script") == 1  # ours, at the end: the workflow's is escaped
    assert "<script>alert" not in text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &lt;b&gt;" in text
    assert parse(text).errors == []


def test_report_with_a_database_shows_conformance(sqlite_url: str, tmp_path: Path) -> None:
    wf = testing.make_workflow()
    engine = Engine([wf], sqlite_url)
    engine.install()
    testing.create_entity_table(engine.db, wf)
    testing.insert_entity(engine.db, wf, "t1")
    engine.execute_step("ticket", "t1", "admin", step="submit").raise_for_error()
    with engine.db.begin() as conn:
        conn.execute(sa.text("UPDATE tickets SET status = 'refused' WHERE id = 't1'"))
    engine.dispose()
    text = report([wf], tmp_path / "r.html", db=sqlite_url).read_text(encoding="utf-8")
    words = " ".join(parse(text).text)
    assert "Conformance of recorded history" in words
    assert "status_mismatch" in words
    assert "table says refused, last history row says triaged" in words


def test_report_needs_a_workflow(tmp_path: Path) -> None:
    with pytest.raises(WfnbUsageError):
        report([], tmp_path / "r.html")


def _ticket_history(url: str) -> None:
    wf = testing.make_workflow()
    engine = Engine([wf], url)
    engine.install()
    testing.create_entity_table(engine.db, wf)
    testing.insert_entity(engine.db, wf, "t1")
    engine.execute_step("ticket", "t1", "admin", step="submit").raise_for_error()
    engine.dispose()


def test_report_states_the_moment_conformance_judged_and_what_fitness_counts(
    sqlite_url: str, tmp_path: Path
) -> None:
    _ticket_history(sqlite_url)
    wf = testing.make_workflow()
    words = " ".join(parse(report([wf], tmp_path / "a.html", db=sqlite_url).read_text()).text)
    assert "(the wall clock)" in words  # not a simulated dataset
    asked = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    text = report([wf], tmp_path / "b.html", db=sqlite_url, now=asked).read_text()
    words = " ".join(parse(text).text)
    assert "judged at 2026-03-01 09:30 UTC, the moment you asked for" in words
    assert "(as asked)" not in words
    assert "1 of 1 history row follows the config" in words
    assert "entities that are where the config says they should not be" in words
    end = " ".join(
        parse(report([wf], tmp_path / "c.html", db=sqlite_url, now="end").read_text()).text
    )
    assert "(the last history row)" in end


def test_report_with_a_database_draws_the_history_heat(sqlite_url: str, tmp_path: Path) -> None:
    _ticket_history(sqlite_url)
    wf = testing.make_workflow()
    text = report([wf], tmp_path / "r.html", db=sqlite_url).read_text(encoding="utf-8")
    assert "Diagram with the history heat" in text
    assert ">submit [admin] (1)</text>" in text  # admin ran it: admin's own edge
    assert ">submit (0)</text>" in text


def test_report_returns_a_path_that_a_notebook_shows_as_a_link(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = report([testing.make_workflow()], "out/report.html")
    assert isinstance(path, Path)
    assert isinstance(path, ReportPath)
    assert path == Path("out/report.html")
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    html = path._repr_html_()
    assert html.startswith("<a href='out/report.html' target='_blank'")
    assert "PosixPath" not in html
    elsewhere = ReportPath(tmp_path.parent / "x.html")
    assert "href='file://" in elsewhere._repr_html_()


def test_steps_read_as_words_first_and_use_case_paths_on_hover(tmp_path: Path) -> None:
    wfs = load_workflows(WORKFLOWS)
    text = report(wfs, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<b>Mark undeliverable</b> <code>mark_undeliverable</code>" in text
    assert "Record that the invoice cannot be delivered (a reason is required)." in text
    assert (
        "<span class='uc' title='wfnb.examples.energy.notifications:notify'>notify</span>" in text
    )
    assert "title='wfnb.examples.energy.invoicing:send_invoice'>send_<wbr>invoice</span>" in text
    words = " ".join(parse(text).text)
    assert "wfnb.examples.energy.notifications:notify" not in words  # shown on demand only
    assert "Could not be delivered (failure status)." in words

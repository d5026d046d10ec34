"""The explorer widget's Python side on SQLite and PostgreSQL over a small demo: panels whose
counts equal SQL's, paging and filtering, timelines, edge stats, overlays, the static view,
``%wfnb explore``, and the dashboard's read-only engine."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import WORKFLOWS
from tests.unit.jupyter.conftest import Shell
from wfnb.exceptions import WfnbUsageError
from wfnb.jupyter.explore.svg import OVERLAYS
from wfnb.jupyter.explore.widget import Explorer
from wfnb.simulation.demo import build_demo
from wfnb.store.readonly import readonly_engine
from wfnb.validation import load_workflows


@pytest.fixture
def demo(db_url: str) -> str:
    build_demo(db_url, users=20, months=2, progress=False)
    return db_url


def _ask(x: Explorer, **request: Any) -> dict[str, Any]:
    sent: list[dict[str, Any]] = []
    x.send = sent.append  # type: ignore[method-assign]  # the comm is the front end's
    x._on_message(x, {"id": 1, **request}, None)
    return sent[-1]


def test_a_status_panel_counts_as_sql_counts_and_pages(demo: str) -> None:
    engine = sa.create_engine(demo)
    x = Explorer(engine, load_workflows([WORKFLOWS]), "invoice")
    assert x.message == ""
    assert 'data-status="draft"' in x.svg
    assert 'data-edge="draft\u2192approved"' in x.svg
    with engine.connect() as conn:
        status, n = conn.execute(
            sa.text("SELECT status, count(*) FROM invoices GROUP BY status ORDER BY 2 DESC")
        ).first()  # type: ignore[misc]
    got = _ask(x, kind="status", status=status)
    assert got["total"] == n
    assert f"{status}: {n:,} entities now" in got["html"]
    assert f"1\u2013{min(n, 20)} of {n:,}" in got["html"]
    assert "Time at this status so far" in got["html"]
    assert re.search(r"\bnan\b|None|NaT", got["html"]) is None
    with engine.connect() as conn:
        some = conn.execute(
            sa.text("SELECT id FROM invoices WHERE status = :s ORDER BY id"), {"s": status}
        ).first()[0]  # type: ignore[index]
    found = _ask(x, kind="status", status=status, search=str(some))
    assert found["total"] == 1
    assert str(some) in found["html"]
    timeline = _ask(x, kind="entity", entity=str(some))
    assert "history row" in timeline["html"]
    assert "error" not in timeline
    assert _ask(x, kind="nonsense")["error"].startswith("WF400")
    assert x.edges == {}  # asked for by the page once the drawing shows
    assert _ask(x, kind="edges")["kind"] == "edges"
    taken = [e for e in x.edges.values() if e["count"]]
    assert taken
    assert all(e["median"] != "\u2014" for e in taken)
    assert x.edges["draft\u2192approved"]["use_cases"]
    engine.dispose()


@pytest.mark.parametrize("overlay", [o for o in OVERLAYS if o != "diff"])
def test_each_overlay_redraws_in_place(sqlite_url: str, overlay: str) -> None:
    build_demo(sqlite_url, users=20, months=2, progress=False)
    x = Explorer(sqlite_url, load_workflows([WORKFLOWS]), "invoice")
    plain = x.svg
    x.overlay = overlay
    assert x.message == ""
    assert "data-status" in x.svg
    if overlay in {"heat", "requester"}:
        assert x.svg != plain
    if overlay == "none":
        assert x.svg == plain
    bundle = x._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    assert "<svg" in data["text/html"]  # a saved notebook keeps a readable drawing
    assert "application/vnd.jupyter.widget-view+json" in data


def test_the_version_diff_marks_added_and_removed_edges() -> None:
    from wfnb.jupyter.explore.svg import edge_diff

    wfs = load_workflows([WORKFLOWS])
    old = wfs["invoice"]
    raw = old.model_dump(by_alias=True, exclude_none=True)
    raw["steps"] = [s for s in raw["steps"] if s["key"] != "write_off"]
    new = type(old).model_validate(raw)
    d = edge_diff(old, new)
    assert "overdue\u2192written_off" in d.removed
    back = edge_diff(new, old)
    assert "overdue\u2192written_off" in back.added
    from wfnb.analysis import diagram
    from wfnb.jupyter.explore.svg import annotate

    drawn = diagram(old)
    svg = annotate(drawn.svg(), drawn.ir, back.classes())
    assert 'class="edge wfnb-edge wfnb-diff-added" data-edge="overdue\u2192written_off"' in svg


def test_a_bad_workflow_name_is_one_coded_line(sqlite_url: str) -> None:
    with pytest.raises(WfnbUsageError, match="no workflow 'nope'"):
        Explorer(sqlite_url, load_workflows([WORKFLOWS]), "nope")


def test_the_magic_returns_the_explorer(ip: Shell, sqlite_url: str) -> None:
    build_demo(sqlite_url, users=20, months=2, progress=False)
    ip.run(f"%wfnb connect {sqlite_url}")
    ip.run(f"%wfnb load {WORKFLOWS}")
    ran = ip.run("x = %wfnb explore invoice --overlay heat")
    assert ran.success, ran.output
    assert isinstance(ip.ns["x"], Explorer)
    assert ip.ns["x"].overlay == "heat"
    assert "history heat" in ip.ns["x"].note
    bad = ip.run("%wfnb explore nope")
    assert "WF200" in bad.output


def test_the_dashboard_engine_refuses_writes(demo: str) -> None:
    ro = readonly_engine(demo)
    with ro.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM workflow_history")).scalar_one() > 0
    with pytest.raises(sa.exc.DBAPIError, match=r"(?i)read.?only"), ro.begin() as conn:
        conn.execute(sa.text("DELETE FROM workflow_history"))
    ro.dispose()


@pytest.mark.parametrize("notebook", ["00_tour.ipynb", "03_regulator_review.ipynb"])
def test_the_saved_notebooks_keep_a_readable_drawing_of_the_explorer(notebook: str) -> None:
    import json

    from tests.conftest import REPO

    cells = json.loads((REPO / "notebooks" / notebook).read_text(encoding="utf-8"))["cells"]
    explorer = [c for c in cells if "%wfnb explore" in "".join(c["source"])]
    assert len(explorer) == 1
    assert "nbval-ignore-output" in explorer[0]["metadata"]["tags"]
    (out,) = explorer[0]["outputs"]
    assert "application/vnd.jupyter.widget-view+json" in out["data"]
    html = "".join(out["data"]["text/html"])
    assert "<svg" in html
    assert 'data-status="' in html

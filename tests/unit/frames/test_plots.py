"""Charts render to SVG and PNG from a real history; the heat diagram counts taken edges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from wfnb import plots, testing
from wfnb.engine import Engine
from wfnb.timers import VirtualClock


def test_charts_render_and_save(sqlite_url: str, tmp_path: Path) -> None:
    wf = testing.make_workflow()
    clock = VirtualClock(start=datetime(2026, 1, 1, tzinfo=UTC))
    engine = Engine([wf], sqlite_url, clock=clock)
    engine.install()
    testing.create_entity_table(engine.db, wf)
    for i in range(6):
        testing.insert_entity(engine.db, wf, f"t{i}")
        clock.advance(timedelta(hours=7))
        engine.execute_step("ticket", f"t{i}", "user")
        clock.advance(timedelta(hours=3 + i))
        engine.execute_step("ticket", f"t{i}", "admin", step="resolve")
    engine.dispose()
    dwell = plots.dwell_plot(sqlite_url, wf)
    assert dwell._repr_svg_().lstrip().startswith("<?xml")
    assert dwell._repr_png_().startswith(b"\x89PNG")
    assert plots.transitions_plot(sqlite_url, "ticket", "h").save(tmp_path / "t.svg").stat().st_size
    heat = plots.heat_diagram(sqlite_url, wf)
    assert 'label="submit (6)"' in heat.dot  # every edge taken six times carries its count
    assert 'label="triage (6)"' in heat.dot
    assert 'label="refuse (0)"' in heat.dot

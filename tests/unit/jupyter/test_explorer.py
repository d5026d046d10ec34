"""The workflow explorer, driven through its traitlets as a user's clicks would."""

from tests.conftest import WORKFLOWS
from wfnb.jupyter.explorer import WorkflowExplorer
from wfnb.validation import load_workflows


def test_selecting_a_status_shows_its_steps_timers_and_observations() -> None:
    wfs = load_workflows([WORKFLOWS])
    ex = WorkflowExplorer(wfs)
    ex.workflow.value = "invoice"
    assert "<svg" in ex.diagram.value
    assert ex.status.value == "draft"
    assert "approve" in ex.panel.value
    ex.status.value = "sent"
    panel = ex.panel.value
    assert "record_payment" in panel
    assert "mark_overdue" in panel  # the overdue timer's step
    assert "P14D" in panel
    assert "bank_feed" in panel
    assert "approve" not in panel


def test_overrides_show_per_requester_and_the_heat_toggle_redraws() -> None:
    wfs = load_workflows([WORKFLOWS])
    calls: list[str] = []

    def counts(wf):  # type: ignore[no-untyped-def]
        calls.append(wf.name)
        return {("draft", "approved"): 41}

    ex = WorkflowExplorer(wfs, counts=counts)
    ex.workflow.value = "invoice"
    assert not ex.heat.disabled
    plain = ex.diagram.value
    ex.heat.value = True
    assert calls == ["invoice"]
    assert ex.diagram.value != plain
    assert "41" in ex.diagram.value
    ex.workflow.value = "user_registration"
    ex.status.value = "pending_documents"
    assert "admin (override)" in ex.panel.value


def test_without_history_the_heat_toggle_is_disabled() -> None:
    ex = WorkflowExplorer(load_workflows([WORKFLOWS]))
    assert ex.heat.disabled


def test_the_status_panel_reads_as_words_with_padded_cells() -> None:
    from tests.unit.frames.test_display import assert_readable
    from wfnb.jupyter.explorer import status_panel

    panel = status_panel(load_workflows([WORKFLOWS])["invoice"], "sent")
    assert_readable(panel)
    assert "14 d (P14D)" in panel
    assert "padding:3px 10px" in panel
    assert "—" in panel  # a step without a validation, not an empty cell


def test_a_failing_heat_source_is_one_coded_line_in_the_explorer() -> None:
    from wfnb.exceptions import StoreError

    def counts(wf):  # type: ignore[no-untyped-def]
        raise StoreError("no such database: demo.db")

    ex = WorkflowExplorer(load_workflows([WORKFLOWS]), counts=counts)
    ex.heat.value = True
    assert "WF300: no such database: demo.db" in ex.message.value
    assert "Traceback" not in ex.message.value
    ex.heat.value = False
    assert ex.message.value == ""

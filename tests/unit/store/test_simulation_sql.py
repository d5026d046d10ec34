"""The tooling's statements (simulator, replayer, demo builder) are named and documented."""

from __future__ import annotations

from tests.names import defined_functions
from wfnb.store import simulation


def test_every_tooling_statement_is_a_named_documented_function() -> None:
    functions = defined_functions(simulation)
    assert set(simulation.SIMULATION_QUERY_NAMES) == set(functions)
    assert sorted(functions) == [
        "attach_request_metadata",
        "count_history_tagged",
        "create_manifest",
        "history_is_empty",
        "insert_entity_rows",
        "insert_manifest",
        "select_id_statuses",
        "select_manifest_details",
        "select_recorded_history",
        "select_tagged_history",
        "set_status_by_hand",
    ]
    assert all(fn.__doc__ for fn in functions.values())

"""``dry_run``'s own arguments, checked before a sandbox is opened.

What ``execute_step`` checks (the entity id, the payload, the requester) it still checks
inside the dry-run, so the answers match. What only ``dry_run`` takes is checked here, and
bad input is one coded error, raised before anything is read:

- ``step`` as a dict: nested at most ``MAX_FILE_DEPTH`` levels, as a workflow file
  (``ConfigError``, WF100; deeper would exhaust the validator's recursion);
- ``use_cases``: a mapping of names (``WfnbUsageError``, WF400);
- ``tables``: table names; one name alone is taken as that one table, and the dry-run
  workflow's own entity table is left out (its rows are copied already);
- ``tenant_id``: text a history row can hold, as for a step (``InvalidPayloadError``,
  WF208), on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from wfnb.engine import inputs
from wfnb.exceptions import ConfigError, WfnbUsageError
from wfnb.loader import MAX_FILE_DEPTH, _deeper_than
from wfnb.problems import Problem, Severity

__all__ = ["Arguments", "checked"]


class Arguments(NamedTuple):
    """``dry_run``'s arguments as it uses them."""

    step: Any
    use_cases: Mapping[str, Any] | None
    tables: tuple[str, ...]


def checked(  # noqa: PLR0917  # dry_run passes them in one line
    wfs: Any,
    workflow: str,
    step: Any,
    use_cases: Any,
    tables: Any,
    tenant_id: Any,
) -> Arguments:
    """``step``, ``use_cases`` and ``tables`` checked (see the module); raises if bad."""
    if tenant_id is not None:
        inputs.check_tenant(tenant_id)
    if isinstance(step, Mapping) and _deeper_than(step, MAX_FILE_DEPTH):
        message = f"the step nests more than {MAX_FILE_DEPTH} levels deep: not a step"
        raise ConfigError([Problem("WF100", Severity.ERROR, "", "/steps", message, workflow)])
    if use_cases is not None and (
        not isinstance(use_cases, Mapping) or not all(isinstance(k, str) for k in use_cases)
    ):
        raise WfnbUsageError(
            f"use_cases= maps use-case names to functions, not {type(use_cases).__name__}"
        )
    return Arguments(step, use_cases, _tables(wfs, workflow, tables))


def _tables(wfs: Any, workflow: str, tables: Any) -> tuple[str, ...]:
    if isinstance(tables, str):
        tables = (tables,)
    if not isinstance(tables, Iterable) or isinstance(tables, bytes | Mapping):
        raise WfnbUsageError(f"tables= lists table names, not {type(tables).__name__}")
    names = tuple(tables)
    if not all(isinstance(name, str) for name in names):
        raise WfnbUsageError("tables= lists table names (text)")
    workflows = dict(wfs.items()) if isinstance(wfs, Mapping) else {w.name: w for w in wfs}
    wf = workflows.get(workflow)
    own = wf.entity.table.lower() if wf is not None else None
    return tuple(dict.fromkeys(name for name in names if name.lower() != own))

"""The notebook's working state: the database, the loaded workflows, prototype use cases."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from wfnb.exceptions import UnknownWorkflowError, WfnbUsageError
from wfnb.suggest import did_you_mean

if TYPE_CHECKING:
    import sqlalchemy as sa

    from wfnb.engine import Engine
    from wfnb.spec import Workflow, Workflows

__all__ = ["Session"]


@dataclass
class Session:
    """What ``%wfnb connect`` / ``%wfnb load`` / ``%%wfnb_usecase`` leave for later magics."""

    db_url: str | None = None
    workflow_paths: list[str] = field(default_factory=list)
    workflows: Workflows | None = None
    use_cases: dict[str, Callable[..., Any]] = field(default_factory=dict)
    _engine: sa.Engine | None = None
    _wfnb_engine: Engine | None = None

    def connect(self, url: str) -> sa.Engine:
        """Make ``url`` the session's database, once it is known to exist and answer.

        Raises:
            WfnbUsageError: not a usable URL (WF400).
            StoreError: no such database, or it cannot be read or reached (WF300); a
                SQLite path that does not exist is never created.
        """
        import sqlalchemy as sa  # noqa: PLC0415  # notebook layer: imported when used

        from wfnb.store.urls import require_database  # noqa: PLC0415

        engine = sa.create_engine(require_database(url))
        if self._engine is not None:
            self._engine.dispose()
        self.db_url, self._engine, self._wfnb_engine = url, engine, None
        return engine

    def engine_if_connected(self) -> sa.Engine | None:
        """The database engine when one is (or can be) connected, else None."""
        if self._engine is None and self.db_url is None:
            return None
        return self.engine

    def config_hashes(self) -> dict[str, str]:
        """``workflow -> config_hash`` of the loaded workflows (the audit's config versions).

        A tenant's merged config is there too, as ``"<workflow> as <tenant>"``.
        """
        wfs: Mapping[str, Workflow] = self.workflows or {}
        hashes = {n: w.config_hash for n, w in wfs.items()}
        for name, wf in wfs.items():
            hashes |= {f"{name} as {t}": c.config_hash for t, c in wf.tenant_configs.items()}
        return hashes

    def workflow_engine(self) -> Engine:
        """A wfnb ``Engine`` over the loaded workflows and the connected database (reads only)."""
        if self._wfnb_engine is None:
            from wfnb.engine import Engine  # noqa: PLC0415

            self._wfnb_engine = Engine(self.require_workflows(), self.engine)
        return self._wfnb_engine

    @property
    def engine(self) -> sa.Engine:
        """The connected database; a one-line usage error when there is none."""
        if self._engine is None:
            if self.db_url is None:
                raise WfnbUsageError("no database: run %wfnb connect URL first")
            return self.connect(self.db_url)
        return self._engine

    def history_engine(self) -> sa.Engine:
        """The connected database, once it has wfnb's history (WF300 "not a wfnb database")."""
        from wfnb.store.urls import require_history  # noqa: PLC0415

        engine = self.engine
        require_history(engine)
        return engine

    def load(self, paths: list[str]) -> Workflows:
        """Load and validate workflows (raises ConfigError with every problem).

        A missing path is WF100 (the loader's "cannot read workflow"), as on the command line.
        """
        from wfnb.validation import load_workflows  # noqa: PLC0415

        self.workflows = load_workflows(paths)
        self.workflow_paths = list(paths)
        self._wfnb_engine = None
        return self.workflows

    def require_workflows(self) -> Workflows:
        """The loaded workflows; a one-line usage error when nothing is loaded."""
        if self.workflows is None:
            raise WfnbUsageError("no workflows loaded: run %wfnb load PATH first")
        return self.workflows

    def workflow(self, name: str) -> Workflow:
        """One loaded workflow by name (WF200 when unknown)."""
        wfs = self.require_workflows()
        if name not in wfs:
            known = ", ".join(sorted(wfs))
            hint = did_you_mean(name, wfs)
            raise UnknownWorkflowError(
                f"unknown workflow {name!r}{hint} (loaded: {known})", workflow=name
            )
        return wfs[name]

"""What conformance checks history against: configs found by hash, and their rules as tuples.

``ConfigIndex`` finds the config a history row was written under from its ``config_hash``:
the loaded workflows first, then every git revision of their folders (each revision read
once per process and cached by commit). ``Rules`` flattens one config into the small
tuples the vectorised checks merge against: which (kind, from, to, step, requester,
source) a history row may have, who may run which step at which status, which steps are
non-idempotent self-loops, the timers and the claims. See docs/adr/0070.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from wfnb.analysis.graph import EdgeKind, graph
from wfnb.loader import git_revisions, parse_source, read_sources
from wfnb.overlays import merged_at_revision
from wfnb.spec import Step, Workflow

__all__ = ["ConfigIndex", "Rules", "rules_of"]

_EDGE_HISTORY_KINDS: dict[str, tuple[str, ...]] = {
    EdgeKind.STEP: ("initiated",),
    EdgeKind.AUTO_ADVANCE: ("initiated",),
    EdgeKind.OVERRIDE: ("initiated",),
    EdgeKind.REJECTION: ("rejected",),
    EdgeKind.CLAIM: ("claimed",),
    EdgeKind.TIMER: ("timer",),
}
"""The history kinds a graph edge stands for (claim releases depend on where they go)."""

_REVISIONS: dict[tuple[str, str], tuple[Workflow, ...]] = {}
"""(folder, commit) → the workflows there; a commit never changes, so this never goes stale."""

_RULES: dict[str, Rules] = {}
"""config hash → its rules; a hash names exactly one canonical config."""


@dataclass(frozen=True, slots=True)
class Rules:
    """One config as tuples (``""`` stands for a missing step, requester or source).

    Attributes:
        allowed: ``(kind, from, to, step, requester, source)`` a history row may have.
        may_run: ``(step, from, requester)``: who may run a step at a status (overrides
            and claim statuses included).
        reruns: ``(step, requester)`` of steps with an action, no claim, and a target equal
            to their status: the same request committing one twice in one stay is a
            non-idempotent rerun.
        timers: ``(status, timer key, after, step)``.
        claims: ``(step, requester, claim status, stale_after)``.
    """

    allowed: tuple[tuple[str, str, str, str, str, str], ...]
    may_run: tuple[tuple[str, str, str], ...]
    reruns: tuple[tuple[str, str], ...]
    timers: tuple[tuple[str, str, str, str], ...]
    claims: tuple[tuple[str, str, str, str], ...]


def _release_kinds(wf: Workflow, step_key: str, target: str) -> tuple[str, ...]:
    """Kinds of a move out of a claim: back to the step's status, or on to its target."""
    step = wf.step(step_key)
    if step is not None and target == step.status:
        return ("released", "janitor")
    return ("initiated", "timer", "janitor")


def _step_extras(
    wf: Workflow, step: Step, requester: str
) -> tuple[list[tuple[str, str, str, str, str, str]], list[tuple[str, str, str]]]:
    """Moves the graph does not draw: a rejection inside a claim, a permanent failure."""
    seen = step.for_requester(requester)
    allowed: list[tuple[str, str, str, str, str, str]] = []
    may_run: list[tuple[str, str, str]] = []
    starts = [step.status] + ([seen.claim.status] if seen.claim else [])
    if seen.claim is not None and seen.rejection is not None:
        allowed.append(
            ("rejected", seen.claim.status, seen.rejection.state, step.key, requester, "")
        )
    for failure in wf.failure_statuses[:1]:  # Result.fail(permanent=True) goes to the first
        for start in starts:
            allowed += [
                (k, start, failure, step.key, requester, "") for k in ("initiated", "timer")
            ]
            may_run.append((step.key, start, requester))
    return allowed, may_run


def rules_of(wf: Workflow) -> Rules:
    """The rules of one config, from its graph (cached by ``config_hash``)."""
    cached = _RULES.get(wf.config_hash)
    if cached is not None:
        return cached
    # An entity's creation (Engine.created): no origin, no step, into the initial status.
    allowed: list[tuple[str, str, str, str, str, str]] = [
        ("initiated", "", wf.initial_status, "", r, "") for r in wf.requester_types
    ]
    may_run: list[tuple[str, str, str]] = []
    for u, v, d in graph(wf).edges(data=True):
        if d["kind"] == EdgeKind.OBSERVED:
            allowed.append(("observed", u, v, "", "", str(d["source"])))
            continue
        if d["kind"] in (EdgeKind.JANITOR, EdgeKind.FAILURE):
            continue  # allowed below and by the release kinds, for every requester
        key = str(d["step"])
        kinds = _EDGE_HISTORY_KINDS.get(d["kind"]) or _release_kinds(wf, key, v)
        for requester in d["requester_types"]:
            may_run.append((key, u, requester))
            allowed += [(k, u, v, key, requester, "") for k in kinds]
    reruns: list[tuple[str, str]] = []
    claims: list[tuple[str, str, str, str]] = []
    for step in wf.steps:
        for requester in (r for r in wf.requester_types if step.allows(r)):
            more_allowed, more_may_run = _step_extras(wf, step, requester)
            allowed += more_allowed
            may_run += more_may_run
            seen = step.for_requester(requester)
            if seen.action and seen.claim is None and seen.successful_state == step.status:
                reruns.append((step.key, requester))
            if seen.claim is not None:
                claims.append((step.key, requester, seen.claim.status, seen.claim.stale_after))
    rules = Rules(
        allowed=tuple(dict.fromkeys(allowed)),
        may_run=tuple(dict.fromkeys(may_run)),
        reruns=tuple(reruns),
        timers=tuple((t.status, t.key, t.after, t.step) for t in wf.timers),
        claims=tuple(claims),
    )
    _RULES[wf.config_hash] = rules
    return rules


def _at_revision(folder: Path, commit: str) -> tuple[Workflow, ...]:
    """The workflows that parse in ``folder`` at ``commit`` (cached per commit)."""
    key = (str(folder), commit)
    if key not in _REVISIONS:
        parsed = (parse_source(s)[0] for s in read_sources(folder, rev=commit))
        bases = tuple(wf for wf in parsed if wf is not None)
        _REVISIONS[key] = (*bases, *merged_at_revision(folder, commit, bases))  # tenants'

    return _REVISIONS[key]


@dataclass
class ConfigIndex:
    """Configs by hash, and the revision each was found at.

    Attributes:
        configs: config hash → workflow.
        revs: config hash → git commit (or the loaded workflow's ``config_rev``).
        folders: where older configs are looked for in git.
    """

    configs: dict[str, Workflow] = field(default_factory=dict)
    revs: dict[str, str | None] = field(default_factory=dict)
    folders: tuple[Path, ...] = ()

    @classmethod
    def of(
        cls, wfs: Mapping[str, Workflow], folders: Iterable[str | Path] | None = None
    ) -> ConfigIndex:
        """An index of the loaded workflows and their tenants' configs (overlays merged).

        Older configs, tenants' too, are looked for in ``folders``' git history (default:
        the workflows' folders).
        """
        if folders is None:
            files = (Path(wf.source_file) for wf in wfs.values() if wf.source_file)
            folders = [f.parent for f in files if f.exists()]
        unique = tuple(dict.fromkeys(Path(f).resolve() for f in folders))
        index = cls(folders=unique)
        for base in wfs.values():
            for wf in (base, *base.tenant_configs.values()):  # each tenant's merged config
                index.configs.setdefault(wf.config_hash, wf)
                index.revs.setdefault(wf.config_hash, wf.config_rev)
        return index

    def find(self, hashes: Iterable[str]) -> set[str]:
        """Look up ``hashes`` not yet known in git, newest revision first.

        Returns:
            The hashes found nowhere.
        """
        missing = {h for h in hashes if h not in self.configs}
        for folder in self.folders:
            for commit in git_revisions(folder) if missing else ():
                for wf in _at_revision(folder, commit):
                    if wf.config_hash in missing:
                        self.configs[wf.config_hash] = wf
                        self.revs[wf.config_hash] = commit
                        missing.discard(wf.config_hash)
                if not missing:
                    break
        return missing

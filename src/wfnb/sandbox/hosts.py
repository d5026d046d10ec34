"""Sandboxes kept for reuse by ``dry_run``: building one costs more than a step does.

A sandbox is keyed by its source, its workflows (config hashes) and the module tables it
copies; ``borrow`` hands it out to one caller at a time and resets it afterwards (every
write rolled back or cleared, a fresh clock and queue), so each dry-run starts from the
source as it is now. At most ``MAX_KEPT`` are kept; the least recently used is closed.
A sandbox whose reset fails (a use case left its session in a state a reset cannot
undo) is closed and forgotten: the next dry-run builds a fresh one. Tables a dry-run
found its use cases writing (``learn``) are shadowed in every later sandbox of that
source and those workflows, as if named in ``tables=`` (ADR 0064).
"""

from __future__ import annotations

import atexit
import contextlib
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import sqlalchemy as sa

from wfnb.sandbox.core import Sandbox
from wfnb.spec import Workflows

__all__ = ["MAX_KEPT", "borrow", "close_all", "learn"]

MAX_KEPT = 4
Key = tuple[str, tuple[tuple[str, str], ...], tuple[str, ...]]

_kept: OrderedDict[Key, tuple[Sandbox, threading.Lock]] = OrderedDict()
_learned: dict[tuple[str, tuple[tuple[str, str], ...]], frozenset[str]] = {}
_lock = threading.Lock()


def _key(db: sa.Engine | str | sa.URL, wfs: Workflows, tables: tuple[str, ...]) -> Key:
    configs = [(name, wf) for name, wf in wfs.items()]
    configs += [(f"{n}@{t}", c) for n, wf in wfs.items() for t, c in wf.tenant_configs.items()]
    hashes = tuple(sorted((name, wf.config_hash) for name, wf in configs))  # tenants' too
    source = _source(db) if isinstance(db, str) else _rendered(db)
    learned = _learned.get((source, hashes), frozenset())
    extra = tuple(sorted(t for t in learned if t not in tables))
    return source, hashes, (*tables, *extra)


def learn(db: sa.Engine | str | sa.URL, wfs: Workflows, tables: set[str]) -> None:
    """Shadow ``tables`` (ones the use cases write) in every later sandbox of ``db``, ``wfs``.

    The kept sandboxes of that source and workflows are closed: the next ``borrow``
    builds one with the tables shadowed.
    """
    source, hashes, _ = _key(db, wfs, ())
    with _lock:
        _learned[source, hashes] = _learned.get((source, hashes), frozenset()) | tables
        stale = [k for k in _kept if k[:2] == (source, hashes)]
    for key in stale:
        with _lock:
            found = _kept.get(key)
        if found is not None:
            with found[1]:
                _evict(key, found[0])


@lru_cache(maxsize=64)
def _source(url: str) -> str:
    """A URL string as the key spells it, parsed once (every dry-run asks again)."""
    return _rendered(url)


def _rendered(db: sa.Engine | str | sa.URL) -> str:
    url = db.url if isinstance(db, sa.Engine) else sa.make_url(db)
    return url.render_as_string(hide_password=False)


def _get(key: Key, db: sa.Engine | str | sa.URL, wfs: Workflows) -> tuple[Sandbox, threading.Lock]:
    with _lock:
        found = _kept.get(key)
        if found is not None:
            _kept.move_to_end(key)
            return found
    box = (Sandbox(db, wfs, tables=key[2]), threading.Lock())
    with _lock:
        _kept[key] = box
        while len(_kept) > MAX_KEPT:
            _, (old, old_lock) = _kept.popitem(last=False)
            with old_lock:
                old.close()
    return box


@contextmanager
def borrow(
    db: sa.Engine | str | sa.URL, wfs: Workflows, tables: tuple[str, ...] = ()
) -> Iterator[Sandbox]:
    """A kept sandbox for ``db`` and ``wfs``, for this caller alone; reset when given back."""
    key = _key(db, wfs, tables)
    box, lock = _get(key, db, wfs)
    with lock:
        try:
            yield box
        finally:
            try:
                box.reset()
            except Exception:  # noqa: BLE001  # any failure: the sandbox is not reusable
                _evict(key, box)


def _evict(key: Key, box: Sandbox) -> None:
    """Forget ``box`` (if it is still the one kept for ``key``) and close it."""
    with _lock:
        if key in _kept and _kept[key][0] is box:
            del _kept[key]
    with contextlib.suppress(Exception):  # closing a broken session may fail too
        box.close()


@atexit.register
def close_all() -> None:
    """Close every kept sandbox (their PostgreSQL sessions roll back and end)."""
    with _lock:
        boxes = list(_kept.values())
        _kept.clear()
        _learned.clear()
    for box, lock in boxes:
        with lock:
            box.close()

"""The workflow explorer: an interactive diagram widget (anywidget), its data and its magic.

``Explorer`` is imported on first use, so ``%wfnb`` parsing stays free of anywidget.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Explorer"]


def __getattr__(name: str) -> Any:
    """``Explorer``, imported when first asked for."""
    if name != "Explorer":
        raise AttributeError(f"module 'wfnb.jupyter.explore' has no attribute {name!r}")
    from wfnb.jupyter.explore.widget import Explorer  # noqa: PLC0415

    return Explorer

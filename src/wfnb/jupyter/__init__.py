"""The notebook layer: magics, widgets and rich displays over the public API.

Imported only when used (``%load_ext wfnb``): IPython and ipywidgets are optional extras.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "EntityTimeline",
    "Explorer",
    "FailureBrowser",
    "StepRunner",
    "VariantBrowser",
    "WorkflowExplorer",
    "load_ipython_extension",
]

_WIDGETS = {
    "WorkflowExplorer": "wfnb.jupyter.explorer",
    "Explorer": "wfnb.jupyter.explore",
    "EntityTimeline": "wfnb.jupyter.widgets",
    "StepRunner": "wfnb.jupyter.widgets",
    "FailureBrowser": "wfnb.jupyter.widgets",
    "VariantBrowser": "wfnb.jupyter.variants",
}
"""The widgets, imported on first use: ``import wfnb.jupyter`` stays light (no ipywidgets)."""


def __getattr__(name: str) -> Any:
    """``wfnb.jupyter.FailureBrowser`` and the other widgets, imported when first asked for."""
    module = _WIDGETS.get(name)
    if module is None:
        raise AttributeError(f"module 'wfnb.jupyter' has no attribute {name!r}")
    from importlib import import_module  # noqa: PLC0415

    return getattr(import_module(module), name)


def load_ipython_extension(ipython: Any) -> None:
    """Register the wfnb magics (``%load_ext wfnb``) and the plain DataFrame display.

    A plain ``pandas.DataFrame`` (a crosstab, a slice) then shows as ``pandas_html``: a
    wide one scrolls inside its own box, a cut cell has its whole text on hover.
    """
    try:
        from wfnb.jupyter.magics import WfnbMagics  # noqa: PLC0415
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        msg = "the notebook toolkit needs the jupyter extra: pip install 'wfnb[jupyter]'"
        raise ImportError(msg) from exc
    ipython.register_magics(WfnbMagics(shell=ipython))
    formatter = getattr(getattr(ipython, "display_formatter", None), "formatters", {})
    if "text/html" in formatter:
        import pandas as pd  # noqa: PLC0415  # the notebook layer's display

        from wfnb.frames.display import pandas_html  # noqa: PLC0415

        formatter["text/html"].for_type(pd.DataFrame, pandas_html)

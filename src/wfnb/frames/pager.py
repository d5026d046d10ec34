"""The paged, searchable table of a frame's display: itables (DataTables), offline.

Imported only when a frame is displayed. The DataTables bundle ships inside the ``itables``
wheel: the first table of a kernel carries it (base64, about 1 MB, once), the later ones
wait for it, so tables work with no network, in JupyterLab and in a saved (trusted)
notebook. An untrusted notebook, or a page without JavaScript, shows itables' static
preview of the same rows instead.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from html import escape

import pandas as pd
from itables import to_html_datatable
from itables.javascript import (
    _itables_ready_event,
    _itables_underscore_version,
    generate_init_offline_itables_html,
)
from itables.options import dt_bundle

from wfnb.frames.display import PAGE

__all__ = ["bundle_html", "pager_html"]

_STATE = {"bundled": False}
_STYLE = "width:auto;margin:0;caption-side:top;font-size:90%"
_CSS = (
    ".wfnb-table td, .wfnb-table th {padding:3px 10px !important; text-align:left !important;"
    " white-space:nowrap} .wfnb-caption {margin:4px 0}"
)


def bundle_html() -> str:
    """The offline DataTables bundle, once per kernel (then ``""``)."""
    if _STATE["bundled"]:
        return ""
    _STATE["bundled"] = True
    html = generate_init_offline_itables_html(dt_bundle)
    # itables appends a <noscript> logo and "is your notebook trusted?" note: an untrusted
    # notebook shows the static preview of each table instead, which says enough.
    return html.split('<div style="vertical-align:middle', 1)[0]


def _keep_preview_until_ready(html: str, table_id: str) -> str:
    """Swap the static preview for the pager only once DataTables is there.

    itables swaps at once; were the bundle's output cleared from a saved notebook, the
    table would then read "Loading ITables..." forever. Waiting for the bundle keeps the
    readable preview of the first rows in that case.
    """
    swap = (
        f'<script>document.getElementById("{table_id}")?.removeAttribute("hidden");'
        f'document.getElementById("{table_id}_fallback")?.setAttribute("hidden", "hidden");'
        "</script>"
    )
    ready = (
        "<script>(() => {const swap = () => {"
        f'document.getElementById("{table_id}")?.removeAttribute("hidden");'
        f'document.getElementById("{table_id}_fallback")?.setAttribute("hidden", "hidden");}};'
        f"if (window.{_itables_underscore_version()}) swap();"
        f' else window.addEventListener("{_itables_ready_event()}", swap, {{once: true}});'
        "})();</script>"
    )
    return html.replace(swap, ready, 1)


def _table_id(cells: pd.DataFrame, caption: str) -> str:
    """A stable id (the content's hash): the same table renders the same HTML."""
    digest = hashlib.sha256(caption.encode())
    digest.update(cells.to_json(orient="values", default_handler=str).encode())
    return f"wfnb_{digest.hexdigest()[:16]}"


def pager_html(cells: pd.DataFrame, caption: str, *, hidden: Sequence[str] = ()) -> str:
    """``cells`` (escaped HTML strings) as a DataTable: 10 rows a page, search, sort.

    Args:
        cells: the display frame, each cell already escaped HTML.
        caption: the line above the table (how many rows, of how many).
        hidden: columns hidden at first; the "Columns" button shows them.
    """
    columns = list(cells.columns)
    options: dict[str, object] = {
        "connected": False,
        "maxBytes": 0,  # the frame's display is already limited to its first rows
        "allow_html": True,
        "showIndex": False,
        "table_id": _table_id(cells, caption),
        "classes": "display compact cell-border wfnb-table",
        "style": _STYLE,
        "pageLength": PAGE,
        "lengthMenu": [10, 25, 100, 500],
        "order": [],
        "autoWidth": False,
        "scrollX": True,
    }
    targets = [columns.index(c) for c in hidden if c in columns]
    if targets:
        options["columnDefs"] = [{"targets": targets, "visible": False}]
        options["layout"] = {
            "topStart": "pageLength",
            "topEnd": "search",
            "top2Start": {"buttons": [{"extend": "colvis", "text": "Columns"}]},
            "bottomStart": "info",
            "bottomEnd": "paging",
        }
    html = _keep_preview_until_ready(to_html_datatable(cells, **options), str(options["table_id"]))  # type: ignore[arg-type]
    head = f"<div class='wfnb-caption'><b>{escape(caption)}</b></div>"
    return f"{bundle_html()}<style>{_CSS}</style><div>{head}{html}</div>"

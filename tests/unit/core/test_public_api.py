"""The public surface: a sorted __all__ whose every name resolves, and a cheap import."""

import subprocess
import sys

import pytest

import wfnb


def test_all_is_sorted_and_unique() -> None:
    assert wfnb.__all__ == sorted(set(wfnb.__all__))


@pytest.mark.parametrize("name", wfnb.__all__)
def test_every_exported_name_resolves(name: str) -> None:
    assert getattr(wfnb, name) is not None


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        _ = wfnb.no_such_thing  # type: ignore[attr-defined]


def test_core_imports_without_heavy_optional_packages() -> None:
    """Importing wfnb and loading a workflow never pulls in the notebook or drawing stack."""
    code = (
        "import sys, wfnb\n"
        "wfnb.Workflow; wfnb.Result; wfnb.WfnbError\n"
        "heavy = {'pandas', 'IPython', 'ipywidgets', 'graphviz', 'procrastinate', 'httpx',"
        " 'pythonjsonlogger'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_all_lists_exactly_the_lazy_names() -> None:
    assert set(wfnb.__all__) == set(wfnb._LAZY)


def test_the_operational_names_are_public() -> None:
    """Issue 16 items 3 and 6: logging, outbound HTTP and adopting a correlation id."""
    assert {"configure_logging", "http_client", "async_http_client", "use"} <= set(wfnb.__all__)
    with wfnb.use(correlation_id="c-public") as ctx:
        assert ctx.correlation_id == "c-public"

"""flankmap: sourced, dated maps and geodesic measurements of NATO's eastern flank.

The package is imported as ``geo``; its modules are :mod:`geo.layers` (the layer registry),
:mod:`geo.borders` (countries, frontiers, NATO membership), :mod:`geo.distance` (geodesic
distances), :mod:`geo.maps` (offline interactive maps), :mod:`geo.report` (report pages and
static figures) and :mod:`geo.cli` (the ``flankmap`` command).
"""

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from geo._errors import (
    DataDirError,
    GeoError,
    InputError,
    LayerNotFoundError,
    LayerValidationError,
    OutputError,
)

if TYPE_CHECKING:
    from geo.layers import list_layers, load_layer, load_layers

try:
    __version__ = version("flankmap")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0+unknown"

__all__ = [
    "DataDirError",
    "GeoError",
    "InputError",
    "LayerNotFoundError",
    "LayerValidationError",
    "OutputError",
    "__version__",
    "list_layers",
    "load_layer",
    "load_layers",
]


def __getattr__(name: str) -> Any:
    """Import :mod:`geo.layers` (and with it pandas and geopandas) on first use only.

    ``import geo`` stays light, so that the ``flankmap`` command handles Ctrl-C and signals
    from its first moments instead of while the heavy libraries load.
    """
    if name in ("layers", "list_layers", "load_layer", "load_layers"):
        import importlib

        layers = importlib.import_module("geo.layers")
        return layers if name == "layers" else getattr(layers, name)
    raise AttributeError(f"module 'geo' has no attribute {name!r}")

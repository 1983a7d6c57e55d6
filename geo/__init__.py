"""flankmap: sourced, dated maps and geodesic measurements of NATO's eastern flank.

The package is imported as ``geo``; its modules are :mod:`geo.layers` (the layer registry),
:mod:`geo.borders` (countries, frontiers, NATO membership), :mod:`geo.distance` (geodesic
distances), :mod:`geo.maps` (offline interactive maps), :mod:`geo.report` (report pages and
static figures) and :mod:`geo.cli` (the ``flankmap`` command).
"""

from importlib.metadata import PackageNotFoundError, version

from geo._errors import (
    DataDirError,
    GeoError,
    InputError,
    LayerNotFoundError,
    LayerValidationError,
)
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
    "__version__",
    "list_layers",
    "load_layer",
    "load_layers",
]

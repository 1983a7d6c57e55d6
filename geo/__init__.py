"""flankmap: sourced, dated maps and geodesic measurements of NATO's eastern flank.

The package is imported as ``geo``. Its public modules, one per concern:
:mod:`geo.layers` (the layer registry and schema), :mod:`geo.borders` (countries, frontiers,
NATO membership), :mod:`geo.distance` (geodesic distances to frontiers and territories),
:mod:`geo.geodesic` (the exact point-to-line engine), :mod:`geo.sites` (the flank analysis
of sites), :mod:`geo.geojson` (the one FeatureCollection reader), :mod:`geo.points` (reading
point files), :mod:`geo.writers` (one writer per output format), :mod:`geo.view` (what a map,
figure or report shows), :mod:`geo.maps` (offline interactive maps),
:mod:`geo.figures` (static figures), :mod:`geo.report` (report pages), :mod:`geo.styles`,
:mod:`geo.dates` and :mod:`geo.cli` (the ``flankmap`` command).

The most used functions are also names of the package (``geo.load_layers``,
``geo.to_frontier``, ``geo.build_map``...). They, the modules and ``__version__`` are loaded
on first use (:pep:`562`), so ``import geo`` loads neither pandas nor geopandas, folium or
matplotlib: the ``flankmap`` command starts at once and handles Ctrl-C and signals from its
first moments.

Examples
--------
>>> import geo
>>> geo.load_layer is geo.layers.load_layer
True
>>> issubclass(geo.InputError, geo.GeoError)
True
"""

from __future__ import annotations

import importlib
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
    __version__: str
    from geo.borders import countries, frontier, nato_members, territory
    from geo.distance import distances, measure_file, to_frontier, to_territory
    from geo.figures import distance_chart, map_figure, save_figure
    from geo.geodesic import range_ring
    from geo.layers import check_layers, list_layers, load_layer, load_layers
    from geo.maps import build_map, save_map
    from geo.report import build_report, save_report
    from geo.sites import site_analysis, within_range
    from geo.view import View

#: The public modules, imported on first use as attributes of the package (``geo.borders``).
_MODULES = (
    "borders",
    "cli",
    "dates",
    "distance",
    "figures",
    "geodesic",
    "geojson",
    "layers",
    "maps",
    "points",
    "report",
    "sites",
    "styles",
    "view",
    "writers",
)

#: Each lazy name of the package and the module it comes from.
_LAZY = {
    **dict.fromkeys(("list_layers", "load_layer", "load_layers", "check_layers"), "geo.layers"),
    **dict.fromkeys(("countries", "frontier", "nato_members", "territory"), "geo.borders"),
    **dict.fromkeys(("to_frontier", "to_territory", "distances", "measure_file"), "geo.distance"),
    **dict.fromkeys(("site_analysis", "within_range"), "geo.sites"),
    "range_ring": "geo.geodesic",
    "View": "geo.view",
    **dict.fromkeys(("build_map", "save_map"), "geo.maps"),
    **dict.fromkeys(("map_figure", "distance_chart", "save_figure"), "geo.figures"),
    **dict.fromkeys(("build_report", "save_report"), "geo.report"),
}

__all__ = [
    "DataDirError",
    "GeoError",
    "InputError",
    "LayerNotFoundError",
    "LayerValidationError",
    "OutputError",
    "View",
    "__version__",
    "build_map",
    "build_report",
    "check_layers",
    "countries",
    "distance_chart",
    "distances",
    "frontier",
    "list_layers",
    "load_layer",
    "load_layers",
    "map_figure",
    "measure_file",
    "nato_members",
    "range_ring",
    "save_figure",
    "save_map",
    "save_report",
    "site_analysis",
    "territory",
    "to_frontier",
    "to_territory",
    "within_range",
]


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("flankmap")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "0+unknown"


def __getattr__(name: str) -> Any:
    """Load a module, a function or ``__version__`` of the package on first use."""
    if name == "__version__":
        value: Any = _version()
    elif name in _LAZY or name in _MODULES:
        module = _LAZY.get(name, f"geo.{name}")
        try:
            value = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:  # a missing dependency: say which
                raise
            raise AttributeError(f"module 'geo' has no attribute {name!r}") from None
        if name in _LAZY:
            value = getattr(value, name)
    else:
        raise AttributeError(f"module 'geo' has no attribute {name!r}")
    globals()[name] = value  # later uses do not come here again
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, *_MODULES})

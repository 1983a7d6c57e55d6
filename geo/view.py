"""What a map, figure or report shows: the frontier, the region, the range rings and the date.

The display options and their single defaults live here, not in the analysis: the frontier
drawn and measured to (:data:`FRONTIER`), the extent of the map's basemap
(:data:`BASEMAP_BOX`) and of the static map figure (:data:`FIGURE_BOX`), the range rings
(:data:`MAP_RINGS_KM`, :data:`FIGURE_RINGS_KM`, at most :data:`MAX_RING_KM`) and the sites
they are drawn around (:func:`ring_centres`). A :class:`View` holds one choice of them,
checked when it is made.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass

import geopandas as gpd

from geo import borders
from geo._errors import InputError
from geo.dates import parse_as_of

__all__ = [
    "BASEMAP_BOX",
    "FIGURE_BOX",
    "FIGURE_RINGS_KM",
    "FRONTIER",
    "FRONTIER_SIDES",
    "MAP_RINGS_KM",
    "MAX_RING_KM",
    "View",
    "check_bbox",
    "check_rings_km",
    "ring_centres",
]

#: The frontier the maps, figures and reports draw and measure to: Russia and Belarus against
#: the NATO members on the date shown.
FRONTIER = borders.DEFAULT_FRONTIER
#: The two sides of :data:`FRONTIER`, as group specifications.
FRONTIER_SIDES: tuple[str, str] = (FRONTIER.partition(":")[0], FRONTIER.partition(":")[2])
#: Extent of the interactive map's vector basemap (west, south, east, north), degrees.
BASEMAP_BOX = (-25.0, 27.0, 70.0, 75.0)
#: Extent of the static map figure's countries (west, south, east, north), degrees.
FIGURE_BOX = (-12.0, 33.0, 52.0, 73.0)
#: The default range-ring radii of the interactive map and the report: none, unless asked for.
MAP_RINGS_KM: tuple[float, ...] = ()
#: The default range-ring radius of the static map figure, km.
FIGURE_RINGS_KM: tuple[float, ...] = (300.0,)

#: Largest range-ring radius that the maps and figures draw, in km.
MAX_RING_KM = 5000.0


def check_rings_km(rings_km: Iterable[float]) -> list[float]:
    """Check range-ring radii given in km.

    Parameters
    ----------
    rings_km : iterable of float
        Radii in kilometres.

    Returns
    -------
    radii_km : list of float
        The radii as floats, in the order given.

    Raises
    ------
    InputError
        If a radius is not a number above 0 and at most :data:`MAX_RING_KM`.

    Examples
    --------
    >>> check_rings_km([100, "300"])
    [100.0, 300.0]
    """
    try:
        radii = [float(r) for r in rings_km]
    except (TypeError, ValueError):
        raise InputError(f"ring radii {rings_km!r} are not numbers of km") from None
    bad = [r for r in radii if not (math.isfinite(r) and 0 < r <= MAX_RING_KM)]
    if bad:  # shortest exact form, not :g, which shows 5000.0001 as 5000
        shown = repr(bad[0]).removesuffix(".0")
        raise InputError(f"ring radius {shown} km is not between 0 and {MAX_RING_KM:g} km")
    return radii


def ring_centres(
    sites: gpd.GeoDataFrame, ring_sites: Iterable[str] | None, *, where: str = "on the map"
) -> gpd.GeoDataFrame:
    """Return the sites to draw range rings around.

    Parameters
    ----------
    sites : geopandas.GeoDataFrame
        Sites with ``id``, ``operator`` and ``country`` columns.
    ring_sites : iterable of str, optional
        Ids of the sites to ring; default the Russian-operated sites in Belarus.
    where : str
        How the error message names the sites (``"on the map"``, ``"drawn"``).

    Returns
    -------
    chosen : geopandas.GeoDataFrame
        The rows of ``sites`` to ring.

    Raises
    ------
    InputError
        If a ring site id is not among ``sites``.
    """
    if ring_sites is None:
        return sites[(sites["operator"] == "RUS") & (sites["country"] == "BLR")]
    wanted = list(ring_sites)
    unknown = sorted(set(wanted) - set(sites["id"]))
    if unknown:
        raise InputError(f"ring site(s) {', '.join(unknown)} not among the sites {where}")
    return sites[sites["id"].isin(wanted)]


def check_bbox(bbox: Iterable[float]) -> tuple[float, float, float, float]:
    """Check a lon/lat box given as (west, south, east, north).

    Parameters
    ----------
    bbox : iterable of float
        Four numbers, degrees: west < east within -180..180, south < north within -90..90.

    Returns
    -------
    bbox : tuple of float
        The box as four floats.

    Raises
    ------
    InputError
        If the box does not have four numbers or they do not make a box.

    Examples
    --------
    >>> check_bbox([20, 53, "28", 57])
    (20.0, 53.0, 28.0, 57.0)
    """
    try:
        values = tuple(float(v) for v in bbox)
    except (TypeError, ValueError):
        raise InputError(
            f"region {bbox!r} is not four numbers (west, south, east, north)"
        ) from None
    if len(values) != 4:
        raise InputError(f"region {bbox!r} needs four numbers (west, south, east, north)")
    west, south, east, north = values
    if not all(math.isfinite(v) for v in values) or not (
        -180 <= west < east <= 180 and -90 <= south < north <= 90
    ):
        raise InputError(
            f"region {values!r} is not a box: west < east within -180..180 and "
            "south < north within -90..90 (degrees)"
        )
    return west, south, east, north


@dataclass(frozen=True)
class View:
    """One choice of what a map, figure or report shows, checked when it is made.

    Parameters
    ----------
    frontier : str
        The frontier drawn and measured to, ``"A:B"`` as in :func:`geo.borders.parse_frontier`.
    region : tuple of float or None
        The box shown (west, south, east, north), degrees; ``None`` for the whole default
        extent.
    rings_km : tuple of float
        Range-ring radii, km (each above 0 and at most :data:`MAX_RING_KM`).
    ring_sites : tuple of str or None
        Ids of the sites to ring; ``None`` for the default (see :func:`ring_centres`).
    as_of : datetime.date or None
        The date shown (NATO membership, active sites); ``None`` for today.

    Fields given in another form (a list, numbers as text, a date as ``YYYY-MM-DD``) are
    stored in the types above.

    Raises
    ------
    InputError
        If the frontier, the region, a ring radius or the date is invalid.

    Examples
    --------
    >>> view = View(rings_km=["300"], as_of="2024-01-01")
    >>> view.frontier, view.rings_km, view.as_of
    ('RUS,BLR:NATO', (300.0,), datetime.date(2024, 1, 1))
    """

    frontier: str = FRONTIER
    region: tuple[float, float, float, float] | None = None
    rings_km: tuple[float, ...] = MAP_RINGS_KM
    ring_sites: tuple[str, ...] | None = None
    as_of: dt.date | None = None

    def __post_init__(self) -> None:
        """Check every field and store it in its canonical type."""
        day = None if self.as_of is None else parse_as_of(self.as_of)
        if not isinstance(self.frontier, str):
            raise InputError(f"frontier {self.frontier!r} must be a text such as {FRONTIER!r}")
        borders.parse_frontier(self.frontier, as_of=day)
        region = None if self.region is None else check_bbox(self.region)
        if isinstance(self.ring_sites, str):
            raise InputError(f"ring_sites {self.ring_sites!r} must be a list of site ids")
        sites = None if self.ring_sites is None else tuple(str(s) for s in self.ring_sites)
        object.__setattr__(self, "as_of", day)
        object.__setattr__(self, "region", region)
        object.__setattr__(self, "rings_km", tuple(check_rings_km(self.rings_km)))
        object.__setattr__(self, "ring_sites", sites)

"""The ``.flankmap`` accessor: flankmap's measurements as methods of a GeoDataFrame.

Importing this module registers the accessor (the convention of ``hvplot.pandas`` or
``pint_pandas``); nothing else registers it, so ``import geo`` and :mod:`geo.distance` leave
pandas untouched::

    import geo.accessor  # noqa: F401  (registers .flankmap)

    sites.flankmap.distances(frontier="RUS,BLR:NATO", as_of="2024-01-01")

Every method is the function of :mod:`geo.distance` of the same name applied to the frame: any
CRS (measured in EPSG:4326, returned in the frame's own CRS, geometry untouched) and any
geometry (a line or polygon counts from its nearest point).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import geopandas as gpd
import pandas as pd

from geo import borders, distance, sites
from geo._errors import InputError

__all__ = ["FlankmapAccessor"]


@pd.api.extensions.register_dataframe_accessor("flankmap")
class FlankmapAccessor:
    """Methods of ``frame.flankmap`` for a :class:`geopandas.GeoDataFrame`.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        The frame the accessor is read from.

    Raises
    ------
    InputError
        On first use, if the frame is a plain :class:`pandas.DataFrame` (no geometry).

    Examples
    --------
    >>> import geopandas as gpd
    >>> import geo.accessor
    >>> pts = gpd.GeoDataFrame({"id": ["a"]}, geometry=gpd.points_from_xy([23.0], [53.0]),
    ...                        crs=4326)
    >>> out = pts.flankmap.distances(frontier="BLR:POL", as_of="2024-01-01")
    >>> out.loc[0, "border"], out.crs.to_epsg()
    ('BLR-POL', 4326)
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame

    def _geo(self) -> gpd.GeoDataFrame:
        frame = self._frame
        if not isinstance(frame, gpd.GeoDataFrame):
            raise InputError(
                "frame.flankmap needs a GeoDataFrame; make one with "
                "geopandas.GeoDataFrame(frame, geometry=geopandas.points_from_xy(lon, lat), "
                "crs=4326)"
            )
        return frame

    def distances(
        self,
        *,
        frontier: str | gpd.GeoDataFrame | None = None,
        to: str | Iterable[str] | None = None,
        as_of: str | dt.date | None = None,
    ) -> gpd.GeoDataFrame:
        """Return the frame with distances to a frontier or a territory appended.

        Parameters
        ----------
        frontier, to, as_of
            As in :func:`geo.distance.distances`.

        Returns
        -------
        result : geopandas.GeoDataFrame
            As :func:`geo.distance.distances`, in the frame's CRS.

        Raises
        ------
        InputError
            If the frame has no geometry, or an input is invalid.
        """
        return distance.distances(self._geo(), frontier=frontier, to=to, as_of=as_of)

    def to_frontier(
        self,
        frontier: str | gpd.GeoDataFrame = borders.DEFAULT_FRONTIER,
        *,
        as_of: str | dt.date | None = None,
    ) -> gpd.GeoDataFrame:
        """Return the frame with the distance to a land frontier appended.

        Parameters
        ----------
        frontier : str or geopandas.GeoDataFrame
            As in :func:`geo.distance.to_frontier`; default ``RUS,BLR:NATO``.
        as_of : str, datetime.date or None
            Date for ``NATO``; default today.

        Returns
        -------
        result : geopandas.GeoDataFrame
            As :func:`geo.distance.distances` with ``frontier``.

        Raises
        ------
        InputError
            If the frame has no geometry, or an input is invalid.
        """
        return self.distances(frontier=frontier, as_of=as_of)

    def to_territory(
        self, group: str | Iterable[str], *, as_of: str | dt.date | None = None
    ) -> gpd.GeoDataFrame:
        """Return the frame with the distance to a group's land area appended (0 inside).

        Parameters
        ----------
        group : str or iterable of str
            As in :func:`geo.distance.to_territory`.
        as_of : str, datetime.date or None
            Date for ``NATO``; default today.

        Returns
        -------
        result : geopandas.GeoDataFrame
            As :func:`geo.distance.distances` with ``to=group`` (with ``inside``).

        Raises
        ------
        InputError
            If the frame has no geometry, or an input is invalid.
        """
        return self.distances(to=group, as_of=as_of)

    def site_analysis(self, *, as_of: str | dt.date | None = None) -> gpd.GeoDataFrame:
        """Return each site's distance to the opposing side and to its host country's border.

        Parameters
        ----------
        as_of : str, datetime.date or None
            The date for NATO membership; default today.

        Returns
        -------
        sites : geopandas.GeoDataFrame
            As :func:`geo.sites.site_analysis`.

        Raises
        ------
        InputError
            If the frame has no geometry, lacks ``operator`` or ``country``, or a value is
            invalid.
        """
        return sites.site_analysis(self._geo(), as_of=as_of)

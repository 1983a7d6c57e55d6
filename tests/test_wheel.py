"""The built wheel carries the layers inside the package (geo/_layers) and finds them there."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    work = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", work, ROOT],
        check=True,
        capture_output=True,
    )
    (wheel,) = work.glob("flankmap-*.whl")
    target = work / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", target, wheel],
        check=True,
        capture_output=True,
    )
    return target


def _run(target, *args, cwd):
    env = {k: v for k, v in os.environ.items() if k != "FLANKMAP_LAYERS_DIR"}
    env["PYTHONPATH"] = str(target)
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def test_wheel_holds_every_layer(installed):
    shipped = sorted(p.name for p in (ROOT / "layers").glob("*.geojson"))
    packed = sorted(p.name for p in (installed / "geo" / "_layers").glob("*.geojson"))
    assert packed == shipped


def test_installed_package_finds_its_own_layers(installed, tmp_path):
    code = "import geo, geo._data as d; print(geo.__file__); print(d.layers_dir())"
    result = _run(installed, "-c", code, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    module_file, layers_dir = result.stdout.splitlines()
    assert Path(module_file).is_relative_to(installed)
    assert Path(layers_dir) == installed / "geo" / "_layers"


def test_installed_command_lists_layers_from_another_folder(installed, tmp_path):
    result = _run(installed, "-m", "geo", "layers", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) >= 2 + len(list((ROOT / "layers").glob("*.geojson")))


def test_installed_command_lists_the_regions(installed, tmp_path):
    result = _run(installed, "-m", "geo", "regions", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (installed / "geo" / "data" / "regions.json").is_file()
    assert result.stdout.splitlines()[2].startswith("suwalki-gap")

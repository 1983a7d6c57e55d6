"""The ``flankmap`` command as a whole: one-line errors, escaping, signals, outputs, start-up."""

import errno
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from geo import writers
from geo.cli import main, printable


def test_python_dash_m_geo(mini_layers):
    result = subprocess.run(
        [sys.executable, "-m", "geo", "layers"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "East test layer" in result.stdout


# --- hostile text on the terminal: control characters are shown escaped ------------------


def test_printable_escapes_every_control_character(hostile_corpus, raw_control):
    for _, text in hostile_corpus:
        shown = printable(text)
        assert not raw_control.search(shown)
        assert "\n" not in shown
        if not raw_control.search(text) and "\n" not in text:
            assert shown == text  # nothing else changes
    assert printable("a\x1b[2Jb\u202ec\n\x9b") == "a\\x1b[2Jb\\u202ec\\n\\x9b"
    assert printable("Ünïcödé 🚀 ok") == "Ünïcödé 🚀 ok"


def test_a_hostile_header_in_an_error_is_escaped(tmp_path, capsys):
    path = tmp_path / "ansi.csv"
    path.write_text("id,na\x1b]52;c;SGVsbG8=\x07me,x,y\na,b,1,2\n", encoding="utf-8")
    assert main(["distances", "--points", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.err == (
        "flankmap: error: ansi.csv: has no lat/lon columns (columns: id, "
        "na\\x1b]52;c;SGVsbG8=\\x07me, x, y); name them lat and lon, or latitude and longitude\n"
    )


def test_a_hostile_file_name_in_notices_and_output_lines(tmp_path, data_dir, capsys, raw_control):
    source = tmp_path / "pts\x1b[2J.geojson"
    source.write_bytes((data_dir / "points_3035.geojson").read_bytes())
    out = tmp_path / "out\x07.csv"
    assert main(["distances", "--points", str(source), "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert "flankmap: warning: pts\\x1b[2J.geojson: reprojected from EPSG:3035" in captured.err
    assert "out\\x07.csv" in captured.out
    assert not raw_control.search(captured.out + captured.err)


@pytest.mark.parametrize(
    "argv", [["layers", "x", "\x1b]0;t\x07"], ["distances", "--bogus\x1b[2J"]]
)  # argparse quotes unrecognized arguments as they are
def test_arguments_quoted_in_messages_are_escaped(mini_layers, capsys, argv, raw_control):
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert not raw_control.search(err)
    assert "\\x1b" in err


def test_a_library_warning_is_one_line_once(mini_layers, capsys, monkeypatch):
    import warnings

    from geo import cli

    real = cli._cmd_layers

    def noisy(args):
        for _ in range(3):
            warnings.warn(
                "Glyph 128640 missing\n  from font DejaVu Sans", UserWarning, stacklevel=1
            )
        return real(args)

    monkeypatch.setattr(cli, "_cmd_layers", noisy)
    assert main(["layers"]) == 0
    assert capsys.readouterr().err == "flankmap: warning: Glyph 128640 missing\n"


# --- environment errors, outputs that are not files, signals ------------------------------

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
WRITES = {
    "map": ["map", "--as-of", "2021-10-20"],
    "distances": ["distances", "--as-of", "2021-10-20"],
    "figure": ["figure", "--as-of", "2021-10-20", "--width-cm", "8", "--height-cm", "10"],
    "report": ["report", "--as-of", "2021-10-20", "--static"],
}
SUFFIX = {"map": ".html", "distances": ".csv", "figure": ".png", "report": ".html"}


def _temps(folder: Path) -> list[Path]:
    return sorted(folder.glob(".*.tmp"))


@pytest.mark.parametrize("command", sorted(WRITES))
@pytest.mark.parametrize(
    ("code", "reason"),
    [(errno.ENOSPC, "No space left on device"), (errno.EROFS, "Read-only file system")],
)
def test_a_full_or_read_only_disk_is_one_line_exit_2(
    mini_layers, tmp_path, monkeypatch, capsys, command, code, reason
):
    out = tmp_path / f"out{SUFFIX[command]}"
    out.write_bytes(b"old")

    def failing_write(self, data):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(writers._OutputFile, "_write", failing_write)
    assert main([*WRITES[command], "-o", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"flankmap: error: {out}: cannot write: {reason}\n"
    assert "wrote" not in captured.out
    assert out.read_bytes() == b"old"
    assert _temps(tmp_path) == []


def test_a_folder_without_room_for_the_temporary_file_is_one_line(
    mini_layers, tmp_path, monkeypatch, capsys
):
    out = tmp_path / "out.csv"
    out.write_text("old")
    real_open = os.open

    def refusing_open(path, flags, *args):
        if str(path).endswith(".tmp"):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(writers.os, "open", refusing_open)
    assert main(["distances", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"flankmap: error: {out}: cannot create a file in the folder '{tmp_path}': "
        "Permission denied\n"
    )
    assert out.read_text() == "old"


@pytest.mark.skipif(IS_ROOT, reason="root may write into a folder without write permission")
def test_an_unwritable_folder_is_one_line(mini_layers, tmp_path, capsys):
    folder = tmp_path / "ro"
    folder.mkdir()
    out = folder / "out.csv"
    out.write_text("old")
    folder.chmod(0o555)
    try:
        assert main(["distances", "-o", str(out)]) == 2
    finally:
        folder.chmod(0o755)
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"flankmap: error: {out}: cannot create a file in the folder")
    assert out.read_text() == "old"


def test_an_unreadable_input_is_one_line(tmp_path, monkeypatch, capsys):
    points = tmp_path / "p.csv"
    points.write_text("id,lat,lon\na,54.7,25.3\n")
    real_open = Path.open

    def unreadable(self, *args, **kwargs):
        if self.name == "p.csv":
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", unreadable)
    assert main(["distances", "--points", str(points)]) == 2
    assert capsys.readouterr().err == f"flankmap: error: {points}: Permission denied\n"


@pytest.mark.skipif(IS_ROOT, reason="root reads a file without read permission")
def test_an_unreadable_input_by_its_mode_is_one_line(tmp_path, capsys):
    points = tmp_path / "p.csv"
    points.write_text("id,lat,lon\na,54.7,25.3\n")
    points.chmod(0)
    assert main(["distances", "--points", str(points)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"flankmap: error: {points}: ")
    assert "ermission" in err


def test_a_long_output_name_works_and_a_too_long_one_is_one_line(mini_layers, tmp_path, capsys):
    out = tmp_path / ("o" * 246 + ".csv")
    assert main(["distances", "-o", str(out)]) == 0
    assert out.exists()
    assert _temps(tmp_path) == []
    capsys.readouterr()
    assert main(["distances", "-o", str(tmp_path / ("o" * 300 + ".csv"))]) == 2
    err = capsys.readouterr().err
    assert err.endswith("is 304 bytes long; the file system allows 255\n")
    assert err.count("\n") == 1


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
def test_a_full_standard_output_is_one_line(mini_layers):
    with open("/dev/full", "wb") as full:  # only stdout: /dev/full is never an -o target
        result = subprocess.run(
            [sys.executable, "-m", "geo", "layers"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    assert result.returncode == 2
    assert result.stderr == (
        "flankmap: error: standard output: cannot write: No space left on device\n"
    )


@pytest.mark.parametrize("command", ["map", "distances"])
def test_a_fifo_output_is_written_through_not_replaced(
    mini_layers, tmp_path, capsys, command, fifo_reader
):
    """Like ``-o /dev/null``: the special file stays what it is and gets the content."""
    fifo, got, reader = fifo_reader(tmp_path, f"out{SUFFIX[command]}")
    assert main([*WRITES[command], "-o", str(fifo)]) == 0
    reader.join(30)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert len(got) == 1
    assert got[0].startswith(b"<!DOCTYPE html>" if command == "map" else b"layer,id,")
    assert _temps(tmp_path) == []


def test_a_symlinked_output_writes_its_target(mini_layers, tmp_path, capsys):
    target = tmp_path / "real.csv"
    target.write_text("old")
    target.chmod(0o600)
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    assert main(["distances", "-o", str(link)]) == 0
    assert link.is_symlink()
    assert target.read_text().startswith("layer,id,")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_the_command_imports_no_heavy_library_before_main():
    """Ctrl-C while pandas loads is handled only once main runs: main must come first."""
    code = "import sys, geo.cli; print(sorted({'pandas', 'geopandas'} & set(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout == "[]\n"


def _wait_for(condition, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.005)
    return False


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs /proc")
def test_ctrl_c_while_the_libraries_load_is_one_line(mini_layers):
    process = subprocess.Popen(
        [sys.executable, "-m", "geo", "layers", "east"],  # a layer table loads pandas
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    maps = Path(f"/proc/{process.pid}/maps")

    def loading_pandas() -> bool:
        try:
            return "/pandas/" in maps.read_text()
        except OSError:
            return False

    assert _wait_for(loading_pandas, 30), "pandas was never loaded"
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert err == "flankmap: interrupted\n"


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_midway_leaves_no_temporary_file(tmp_path, signum):
    points = tmp_path / "p.csv"
    rows = "".join(
        f"p{i},{50 + i % 900 / 100:.2f},{20 + i % 700 / 100:.2f}\n" for i in range(400_000)
    )
    points.write_text("id,lat,lon\n" + rows)
    out = tmp_path / "out.csv"
    out.write_text("old")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "geo",
            "distances",
            "--points",
            str(points),
            "-o",
            str(out),
            "--skip-invalid",
            "--chunk-rows",
            "1000",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    def writing() -> bool:
        return any(t.stat().st_size > 0 for t in _temps(tmp_path) if t.exists())

    assert _wait_for(writing), "the temporary file never grew"
    process.send_signal(signum)
    _, err = process.communicate(timeout=60)
    name = signal.Signals(signum).name
    assert process.returncode == 128 + signum, err
    assert err.splitlines()[-1] == f"flankmap: stopped by {name}"
    assert "Traceback" not in err
    assert out.read_text() == "old"
    assert _temps(tmp_path) == []
    assert not (tmp_path / "out.rejected.csv").exists()


def test_signal_handlers_are_restored_and_an_ignored_signal_stays_ignored(mini_layers, capsys):
    """Under nohup SIGHUP is ignored: flankmap must not make it fatal again."""
    before = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        assert main(["layers"]) == 0
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    finally:
        signal.signal(signal.SIGHUP, before)


def test_sigterm_inside_a_write_unwinds_and_cleans_up(mini_layers, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out.csv"
    out.write_text("old")

    def write_then_terminate(self, data):
        os.kill(os.getpid(), signal.SIGTERM)  # the handler raises here, mid-write
        return len(data)

    monkeypatch.setattr(writers._OutputFile, "_write", write_then_terminate)
    assert main(["distances", "-o", str(out)]) == 128 + signal.SIGTERM
    assert capsys.readouterr().err == "flankmap: stopped by SIGTERM\n"
    assert out.read_text() == "old"
    assert _temps(tmp_path) == []
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


# --- flankmap layers check [DIR] ------------------------------------------------------------


# --- start-up: the package and the command load no heavy library until a command needs it ---

HEAVY = ("pandas", "geopandas", "shapely", "pyogrio", "folium", "matplotlib", "importlib.metadata")


def _loaded_after(code: str) -> list[str]:
    probe = f"import sys\n{code}\nprint(sorted(set({HEAVY!r}) & set(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.splitlines()[-1].replace("'", '"'))


def test_import_geo_loads_no_heavy_library():
    assert _loaded_after("import geo") == []
    assert _loaded_after("import geo, geo.cli; geo.cli.build_parser().format_help()") == []


def test_the_version_is_looked_up_only_when_asked():
    import geo

    assert _loaded_after("import geo; geo.__version__") == ["importlib.metadata"]
    result = subprocess.run(
        [sys.executable, "-m", "geo", "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout == f"flankmap {geo.__version__}\n"


def test_the_package_names_load_their_module_on_first_use():
    import importlib.util

    import geo

    for name in geo.__all__:
        module = geo._LAZY.get(name)
        if module is None or importlib.util.find_spec(module) is None:
            continue  # an error class, __version__, or a module planned but not yet written
        assert getattr(geo, name) is getattr(importlib.import_module(module), name), name
    assert geo.layers is importlib.import_module("geo.layers")
    assert {"geopandas", "shapely"} <= set(_loaded_after("import geo; geo.borders"))
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        geo.nope  # noqa: B018
    assert {"load_layers", "borders", "maps"} <= set(dir(geo))


def test_listing_the_layers_loads_neither_pandas_nor_geopandas(mini_layers):
    code = "from geo import cli; cli.main(['layers'])"
    assert "geopandas" not in _loaded_after(code)
    assert "pandas" not in _loaded_after(code)


@pytest.mark.parametrize(
    "command",
    [
        ["distances"],
        ["map", "-o", "m.html"],
        ["report"],
        ["figure", "-o", "f.svg", "--kind", "distances"],
    ],
)
def test_a_bad_border_file_is_one_line_exit_2(tmp_path, capsys, command, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "countries.geojson"
    bad.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", '
        '"properties": {"iso_a3": "Estonia"}, "geometry": {"type": "Polygon", '
        '"coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}}]}'
    )
    assert main([*command, "--borders", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err == (
        "flankmap: error: countries.geojson: feature 1: field 'iso_a3': 'Estonia' is not an "
        "ISO 3166-1 alpha-3 code\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["countries.geojson"]

"""The ``flankmap`` command: a thin layer over the Python API.

Each subcommand parses its arguments and calls one API function. A :class:`geo.GeoError` (a user
mistake: bad input, unknown layer, bad date) becomes one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import logging
import os
import re
import signal
import sys
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from geo._errors import GeoError, InputError, OutputError
from geo.text import km_cell, shorten

if TYPE_CHECKING:
    import pandas as pd

EXIT_USER_ERROR = 2
#: ``flankmap layers check --strict``: the folder is valid, but features are due for a check.
EXIT_STALE = 1

#: Characters a terminal may act on: C0 and C1 controls (ESC starts colour, title, clipboard
#: and screen commands), DEL, line and paragraph separators, and bidi embeddings, overrides
#: and isolates (which reorder the text shown around them).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
#: What JSON leaves raw in strings (json escapes C0 itself; line breaks between values stay).
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _ESCAPES.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def printable(text: object, *, lines: bool = False) -> str:
    r"""Return text to show on a terminal: every control character written as an escape.

    Every id, name, header, layer name, file name and message that flankmap prints goes
    through here, so a hostile text cannot move the cursor, clear the screen, set the window
    title, write the clipboard or reorder the line; it is shown as data.

    Parameters
    ----------
    text : object
        Converted with ``str``.
    lines : bool
        Keep line breaks (``\n``) as they are, for text of several lines (usage, help).

    Returns
    -------
    text : str
        The text, with ``\x1b``, ``\n``, ``\u202e`` (and so on) in place of control characters.

    Examples
    --------
    >>> printable("red\x1b[31m, title\x1b]0;x\x07 and \u202eevil")
    'red\\x1b[31m, title\\x1b]0;x\\x07 and \\u202eevil'
    """
    text = str(text)
    if not _CONTROL.search(text):
        return text
    if lines:
        return "\n".join(_CONTROL.sub(_escape, line) for line in text.split("\n"))
    return _CONTROL.sub(_escape, text)


class _VersionAction(argparse.Action):
    """``--version``: print the version, looked up only when asked (it costs a metadata scan)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        kwargs.setdefault("help", "show the version and exit")
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any) -> None:
        import geo

        parser._print_message(f"flankmap {geo.__version__}\n", sys.stdout)
        parser.exit()


class _Parser(argparse.ArgumentParser):
    """An argument parser whose messages (which may quote the arguments) are printable."""

    def _print_message(self, message: str, file: Any = None) -> None:
        super()._print_message(printable(message, lines=True), file)


def format_table(rows: Sequence[Sequence[object]], header: Sequence[str]) -> str:
    """Lay out rows as a plain-text table with aligned columns.

    Parameters
    ----------
    rows : sequence of sequences
        The cells, converted with ``str``; control characters are shown escaped
        (:func:`printable`).
    header : sequence of str
        Column titles.

    Returns
    -------
    table : str
        The table, with a rule under the header and no trailing newline.

    Examples
    --------
    >>> print(format_table([["a", 1]], ["name", "n"]))
    name  n
    ----  -
    a     1
    """
    cells = [[printable(c) for c in header], *[[printable(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cmd_layers(args: argparse.Namespace) -> int:
    from geo import layers
    from geo._errors import InputError

    if args.name == "check":
        if args.geojson:
            raise InputError("--geojson shows one layer: flankmap layers NAME --geojson")
        if args.output is not None or args.format is not None:
            raise InputError("-o and --format export layers: flankmap layers [NAME] -o FILE")
        return _check_layers(args)
    if args.folder is not None:
        raise InputError(
            f"flankmap layers takes one layer name, not {args.folder!r}; "
            "to check a folder: flankmap layers check DIR"
        )
    if args.strict or args.lenient:
        raise InputError("--strict and --lenient are options of: flankmap layers check [DIR]")
    if args.output is not None:
        return _export_layers(args)
    if args.format is not None:
        raise InputError("--format needs -o FILE: flankmap layers [NAME] --format kmz -o FILE")
    if args.name is None:
        if args.as_of or args.geojson:
            raise InputError("--as-of and --geojson need a layer name: flankmap layers NAME ...")
        infos = layers.list_layers()
        rows = [[i.name, i.title, i.count, f"{i.first}..{i.last}"] for i in infos]
        print(format_table(rows, ["layer", "title", "features", "dates"]))
        return 0
    frame = layers.load_layer(args.name, as_of=args.as_of)
    if args.geojson:
        text = json.dumps(layers.to_feature_collection(frame), ensure_ascii=False, indent=2)
        # JSON escapes C0 controls itself; C1 controls, separators and bidi controls become
        # \u escapes too (the same JSON), so the document is safe to show on a terminal.
        print(_JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text))
        return 0
    rows = [
        [
            r["id"],
            r["name"],
            r["kind"],
            r["country"],
            r["operator"],
            r["status"],
            r["since"],
            r["until"] or "-",
            f"{geom.y:.4f},{geom.x:.4f}" if geom.geom_type == "Point" else geom.geom_type,
            int(r["coord_uncertainty_m"]),
        ]
        for r, geom in zip(frame.to_dict("records"), frame.geometry, strict=True)
    ]
    header = ["id", "name", "kind", "country", "operator", "status", "since", "until"]
    print(format_table(rows, [*header, "lat,lon", "±m"]))
    return 0


def _cmd_regions(args: argparse.Namespace) -> int:
    from geo import regions

    rows = [
        [
            r.id,
            r.title,
            ",".join(f"{v:g}" for v in r.bbox),
            f"{r.source.title} <{r.source.url}> (accessed {r.source.accessed})"
            if r.source
            else "-",
        ]
        for r in regions.list_regions()
    ]
    print(format_table(rows, ["region", "title", "bbox W,S,E,N", "source"]))
    return 0


def _check_layers(args: argparse.Namespace) -> int:
    """``flankmap layers check [DIR]``: validate a folder, list the features due for a check."""
    from geo import _data, layers
    from geo.dates import parse_as_of

    day = parse_as_of(args.as_of)
    folder = Path(args.folder) if args.folder is not None else _data.layers_dir()
    stale = layers.check_layers(folder, as_of=day, strict=not args.lenient)
    rows = []
    for r in stale.to_dict("records"):
        verified = r["last_verified"]
        age = f"{(day - dt.date.fromisoformat(verified)).days:,} days" if verified else "never"
        rows.append([r["layer"], r["id"], r["name"], verified or "-", age])
    if not rows:
        print(printable(f"{folder}: valid; every feature was verified in the year before {day}"))
        return 0
    print(
        printable(
            f"{folder}: valid; {len(rows)} feature(s) last verified more than a year before "
            f"{day}, oldest first:"
        )
    )
    print(format_table(rows, ["layer", "id", "name", "last_verified", "age"]))
    if args.strict:
        print(
            printable(f"flankmap: {len(rows)} feature(s) due for a new check (--strict)"),
            file=sys.stderr,
        )
        return EXIT_STALE
    return 0


def _wrote(out: Path, size: str) -> None:
    """Say that OUT was written: on stdout, or on stderr when OUT is a stream (/dev/stdout)."""
    from geo.writers import output_target

    stream = output_target(out).stream  # the message must not go into the data
    print(printable(f"wrote {out} ({size})"), file=sys.stderr if stream else sys.stdout)


def _export_layers(args: argparse.Namespace) -> int:
    """Write one layer (NAME) or every layer to -o FILE in --format (default by suffix)."""
    from geo import layers, writers
    from geo._errors import InputError
    from geo.styles import layer_styles

    if args.geojson:
        raise InputError("give --geojson (print) or -o FILE (write), not both")
    writers.writer_for(args.output, format=args.format)
    names = [args.name] if args.name is not None else [i.name for i in layers.list_layers()]
    out = writers.check_output_path(
        args.output, inputs=tuple(layers.layer_path(name) for name in names)
    )
    every = layers.load_layers(names)
    frame = layers.filter_active(every, args.as_of) if args.as_of else every
    writers.write_points(
        frame,
        out,
        format=args.format,
        excel_safe=args.excel_safe,
        styles=layer_styles(every),
    )
    _wrote(out, f"{len(frame):,} features")
    return 0


def _plain_number(text: str) -> float:
    """Parse a number written with ASCII digits only and no '_' (float takes '1_0', '١٠')."""
    value = text.strip()
    if not value.isascii() or "_" in value:
        raise ValueError(value)
    return float(value)


def _float_option(text: str) -> float:
    """Argparse type of a plain number (see :func:`_plain_number`)."""
    try:
        return _plain_number(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a plain number (digits 0-9 and '.', no '_')"
        ) from None


def _int_option(text: str) -> int:
    """Argparse type of a plain whole number."""
    value = text.strip()
    if not (value.isascii() and value.isdigit()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number (digits 0-9)")
    return int(value)


def _parse_km_list(text: str) -> list[float]:
    from geo._errors import InputError

    try:
        return [_plain_number(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise InputError(
            f"--rings {text!r} is not a comma-separated list of km in digits 0-9 and '.', "
            "e.g. 100,300"
        ) from None


def _cmd_map(args: argparse.Namespace) -> int:
    from geo import maps, writers
    from geo._errors import InputError
    from geo.writers import check_output_path

    source = _border_source(args)
    inputs = tuple(args.add)
    out = check_output_path(args.output, inputs=(*inputs, *_source_files(source)))
    region = _region(args)
    if args.height is not None and not args.fragment:
        raise InputError("--height sets the height of a --fragment; add --fragment")
    if args.height is not None:
        maps.frame_style(args.height)  # a bad height fails before the map is built
    popup_fields = _layer_list(args.popup_fields)
    if popup_fields is not None and not args.add:
        raise InputError("--popup-fields names columns of --add files; add --add FILE")
    rejected = None
    if args.skip_invalid:
        if not args.add:
            raise InputError("--skip-invalid needs --add FILE")
        rejected = _rejected_output(args, out, out, inputs)
    counts: dict[str, int] = {}
    with writers.rejected_writer(
        rejected, with_file=True, excel_safe=args.excel_safe
    ) as write_rejected:

        def on_rejected(path: Path, rows: pd.DataFrame) -> None:
            counts[path.name] = counts.get(path.name, 0) + len(rows)
            write_rejected(rows.assign(file=path.name))

        fmap = maps.build_map(
            _layer_list(args.layers),
            as_of=args.as_of,
            add=args.add,
            popup_fields=popup_fields,
            rings_km=_ring_radii(args.rings),
            ring_sites=_layer_list(args.ring_sites),
            tiles=args.tiles,
            tiles_key=args.tiles_key,
            skip_invalid=args.skip_invalid,
            on_rejected=on_rejected if rejected is not None else None,
            borders=source,
            region=region,
            encoding=args.encoding,
        )
        out = maps.save_map(
            fmap, out, fragment=args.fragment, height=args.height or "4:3", inputs=inputs
        )
    if rejected is not None:
        print(
            printable(
                f"flankmap: skipped {sum(counts.values()):,} invalid row(s); wrote them with the "
                f"reason to {rejected}"
            ),
            file=sys.stderr,
        )
    size_kb = out.stat().st_size / 1024
    print(printable(f"wrote {out} ({size_kb:,.0f} KB)"))
    return 0


def _layer_list(text: str | None) -> list[str] | None:
    """Split a comma-separated option (layer names, site ids), dropping blanks around them."""
    return [part.strip() for part in text.split(",") if part.strip()] if text else None


def _ring_radii(text: str | None) -> list[float]:
    """Parse --rings: km radii, where 0 means no rings (for every command alike)."""
    return [r for r in _parse_km_list(text) if r != 0] if text else []


def _border_source(args: argparse.Namespace) -> Any:
    """Return the --borders source (a bad FILE fails here, before any output)."""
    from geo import _data

    return _data.border_source(args.borders)


def _source_files(source: Any) -> tuple[str, ...]:
    """Return the file of a FILE border source, which no output may replace."""
    return (source.path,) if source.path else ()


def _say_borders(source: Any) -> None:
    """Say on stderr which borders the distances are measured to, with their attribution."""
    print(printable(f"flankmap: {source.notice}"), file=sys.stderr)


def _cmd_report(args: argparse.Namespace) -> int:
    from geo import report

    source = _border_source(args)
    page = report.build_report(
        _layer_list(args.layers),
        as_of=args.as_of,
        compare=args.compare,
        rings_km=_ring_radii(args.rings),
        ring_sites=_layer_list(args.ring_sites),
        title=args.title,
        interactive=not args.static,
        borders=source,
        region=_region(args),
    )
    out = report.save_report(args.output, page)
    print(printable(f"wrote {out} ({out.stat().st_size / 1024:,.0f} KB)"))
    return 0


#: The page sizes of ``flankmap figure --page`` (the keys of geo.figures.PAGE_SIZES_CM; the
#: figure module, which imports matplotlib, is loaded only to draw).
FIGURE_PAGES = ("a3", "a3-landscape", "a4", "a4-landscape", "text")


def _cmd_figure(args: argparse.Namespace) -> int:
    from geo import figures
    from geo._errors import InputError

    source = _border_source(args)
    out = figures.check_figure_path(args.output)
    if args.kind == "distances" and (args.bbox is not None or args.region is not None):
        raise InputError("--bbox and --region apply to --kind map, not to the distance chart")
    if args.page and (args.width_cm is not None or args.height_cm is not None):
        raise InputError("--page sets the size: give it or --width-cm/--height-cm, not both")
    if args.scale != "linear" and args.kind != "distances":
        raise InputError("--scale is for the distance chart: add --kind distances")
    width = args.width_cm if args.width_cm is not None else figures.A4_SIZE_CM[0]
    page = figures.PAGE_SIZES_CM.get(args.page or "")
    if args.kind == "distances":
        fig = figures.distance_figure(
            _layer_list(args.layers),
            as_of=args.as_of,
            size_cm=page or (width, args.height_cm),
            dpi=args.dpi,
            borders=source,
            scale=args.scale,
        )
    else:
        fig = figures.map_figure(
            layers=_layer_list(args.layers),
            as_of=args.as_of,
            rings_km=_ring_radii(args.rings),
            ring_sites=_layer_list(args.ring_sites),
            labels=not args.no_labels,
            title=args.title,
            region=_region(args),
            size_cm=page or (width, args.height_cm or figures.A4_SIZE_CM[1]),
            dpi=args.dpi,
        )
    figures.save_figure(fig, out)
    print(printable(f"wrote {out} ({out.stat().st_size / 1024:,.0f} KB)"))
    return 0


def _km(value: float) -> str:
    return km_cell(value, missing="-")


def _site_row(r: dict[str, Any]) -> list[object]:
    name = shorten(r["name"], 40)
    return [
        r["id"],
        name,
        r["country"],
        r["operator"],
        r["side"],
        _km(r["opposing_distance_m"]),
        r["opposing_border"] or "inside",
        _km(r["coord_uncertainty_m"]),
        _km(r["host_border_distance_m"]),
        r["host_border"] or "-",
    ]


def _point_cells(r: dict[str, Any], geom: Any) -> list[object]:
    bearing = r["bearing_deg"]
    point = geom.geom_type == "Point"  # a line or polygon is measured from its nearest point
    return [
        f"{geom.y:.4f}" if point else geom.geom_type,
        f"{geom.x:.4f}" if point else "-",
        _km(r["distance_m"]),
        r["border"] or f"inside {r.get('inside', '')}".strip(),
        "-" if bearing != bearing else f"{bearing:.0f}",
        r.get("located_in") or "-",
    ]


class _Progress:
    """A one-line progress bar on stderr, redrawn at most five times a second."""

    def __init__(self, enabled: bool, label: str) -> None:
        self.enabled, self.label = enabled, printable(label)
        self.start = self.last = time.monotonic()
        self.drawn = False

    def update(self, done: int, total: int, rows: int) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self.last < 0.2 and done < total):
            return
        self.last = now
        share = done / total if total else 1.0
        filled = int(share * 20)
        rate = rows / max(now - self.start, 1e-9)
        sys.stderr.write(
            f"\r{self.label} [{'#' * filled}{'.' * (20 - filled)}] {share:4.0%} "
            f"{rows:,} rows, {rate:,.0f} rows/s"
        )
        sys.stderr.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            sys.stderr.write("\n")
            sys.stderr.flush()
            self.drawn = False


def _rejected_output(
    args: argparse.Namespace,
    base: Path | str,
    out: Path | None,
    inputs: tuple[Path | str, ...],
) -> Path:
    """Where --skip-invalid writes the rejected rows (--rejected, else BASE.rejected.csv).

    The side file must be writable, and may replace neither an input nor the output.
    """
    from geo._errors import InputError
    from geo.writers import check_output_path

    base = Path(base)
    rejected = check_output_path(
        args.rejected or base.with_name(f"{base.stem}.rejected.csv"), inputs=inputs
    )
    if out is not None and rejected.resolve() == out.resolve():
        raise InputError(f"--rejected {str(rejected)!r} is the output file; give another")
    return rejected


#: After this many chunks of fewer than _FEW_ROWS rows, --chunk-rows is said to be small.
_MANY_CHUNKS = 1000
_FEW_ROWS = 10_000


def _stream_distances(
    args: argparse.Namespace,
    out: Path | None,
    rejected: Path | None,
    as_of: dt.date,
    source: Any,
) -> pd.DataFrame | None:
    """Measure a point file chunk by chunk; return the result, or None once OUT is written."""
    from geo import distance

    progress = _Progress(args.progress or sys.stderr.isatty(), Path(args.points).name)
    chunks = [0]

    def on_progress(done: int, total: int, rows: int) -> None:
        chunks[0] += 1
        if chunks[0] == _MANY_CHUNKS and args.chunk_rows < _FEW_ROWS:
            progress.close()
            logging.getLogger("geo").warning(
                "--chunk-rows %s has made %s chunks so far, and each costs some milliseconds: "
                "%s rows or more is usual (default 100,000)",
                f"{args.chunk_rows:,}",
                f"{_MANY_CHUNKS:,}",
                f"{_FEW_ROWS:,}",
            )
        progress.update(done, total, rows)

    try:
        run = distance.measure_file(
            args.points,
            out,
            frontier=args.frontier,
            to=args.to,
            as_of=as_of,
            chunk_rows=args.chunk_rows,
            skip_invalid=args.skip_invalid,
            rejected=rejected,
            on_progress=on_progress,
            excel_safe=args.excel_safe,
            borders=source,
            encoding=args.encoding,
            format=args.format,
        )
    finally:
        progress.close()
    if rejected is not None:
        print(
            printable(
                f"flankmap: skipped {run.rejected:,} invalid row(s); wrote them with the reason "
                f"to {rejected}"
            ),
            file=sys.stderr,
        )
    if out is not None:
        _wrote(out, f"{run.rows:,} rows")
        _say_borders(source)
        return None
    return run.frame


def _dask_distances(args: argparse.Namespace, out: Path, as_of: dt.date, source: Any) -> int:
    """Run on dask over a folder of Parquet or CSV parts (or one file)."""
    from geo import distance, points, writers

    with contextlib.ExitStack() as stack:
        if args.scheduler:
            try:
                from distributed import Client
            except ImportError:
                raise InputError(
                    "--scheduler needs dask's distributed: pip install 'flankmap[dask]'"
                ) from None
            stack.enter_context(Client(args.scheduler))  # type: ignore[no-untyped-call,unused-ignore]
        frame = points.read_parts(args.points)
        result = distance.distances(
            frame, frontier=args.frontier, to=args.to, as_of=as_of, borders=source
        )
        progress = _Progress(
            args.progress or sys.stderr.isatty(), f"{Path(args.points).name} parts"
        )
        try:
            n_rows = writers.write_parts(
                result,
                out,
                results=[c for c in result.columns if c not in frame.columns],
                on_progress=progress.update,
                excel_safe=args.excel_safe,
                parts=points.part_files(args.points),
                format=args.format,
            )
        finally:
            progress.close()
    _wrote(out, f"{n_rows:,} rows")
    _say_borders(source)
    return 0


def _cmd_distances(args: argparse.Namespace) -> int:
    from geo import borders, distance, layers, sites
    from geo._errors import InputError
    from geo.dates import parse_as_of
    from geo.writers import check_output_path, writer_for

    if not args.points and (args.skip_invalid or args.engine == "dask"):
        raise InputError("--skip-invalid and --engine dask need --points FILE")
    if args.encoding and (not args.points or args.engine == "dask"):
        raise InputError("--encoding needs --points FILE (and the memory engine)")
    if args.chunk_rows < 1:
        raise InputError(f"--chunk-rows {args.chunk_rows} must be at least 1")
    if args.format is not None and not args.output:
        raise InputError("--format needs -o FILE: flankmap distances ... --format kmz -o FILE")
    if args.output:  # an unknown format or suffix fails before any work
        writer_for(args.output, format=args.format)
    as_of = parse_as_of(args.as_of)
    source = _border_source(args)
    inputs = (args.points,) if args.points else ()
    out = (
        check_output_path(args.output, inputs=(*inputs, *_source_files(source)))
        if args.output
        else None
    )
    if args.engine == "dask":
        if out is None or args.skip_invalid:
            raise InputError("--engine dask writes a file: give -o OUT, without --skip-invalid")
        return _dask_distances(args, out, as_of, source)
    rejected = None
    if args.skip_invalid:
        rejected = _rejected_output(args, out or args.points, out, inputs)
    if args.points:
        result = _stream_distances(args, out, rejected, as_of, source)
        if result is None:
            return 0
        key = "distance_m"
    else:
        frame = layers.load_layers(_layer_list(args.layers), as_of=as_of)
        if args.frontier or args.to:
            result = distance.distances(
                frame, frontier=args.frontier, to=args.to, as_of=as_of, borders=source
            )
            key = "distance_m"
        else:
            result = sites.site_analysis(frame, as_of=as_of, borders=source)
            key = "opposing_distance_m"
        if out is not None:
            from geo import writers

            results = [c for c in result.columns if c not in frame.columns]
            writers.write_points(
                result, out, excel_safe=args.excel_safe, results=results, format=args.format
            )
            _wrote(out, f"{len(result):,} rows")
            _say_borders(source)
            return 0
    result = result.sort_values(key, kind="stable", na_position="last")
    if key == "opposing_distance_m":
        target = "other side's territory (NATO for RUS/BLR sites, else Russia + Belarus)"
        header = ["id", "name", "country", "operator", "side", "to other side km", "border"]
        header += ["±km", "host border km", "host border"]
        rows = [_site_row(r) for r in result.to_dict("records")]
    else:
        spec = args.frontier or borders.DEFAULT_FRONTIER
        target = f"territory of {args.to}" if args.to else f"frontier {spec}"
        names = [c for c in ("id", "name") if c in result.columns]
        header = ["#", *names, "lat", "lon", "km", "border", "bearing°", "in"]
        records = zip(result.to_dict("records"), result.geometry, strict=True)
        rows = [
            [number, *[r[c] for c in names], *_point_cells(r, geom)]
            for number, (r, geom) in enumerate(records, 1)
        ]
    print(
        printable(
            f"Geodesic distances (WGS84) to the {target}, as of {as_of.isoformat()}, nearest "
            f"first; borders: {source.title}"
        )
    )
    print(format_table(rows, header))
    _say_borders(source)
    return 0


def _add_borders(p: argparse.ArgumentParser) -> None:
    """Add --borders: the border source distances are measured to."""
    p.add_argument(
        "--borders",
        metavar="SOURCE",
        default="osm",
        help="borders the distances are measured to: osm (default; OpenStreetMap, ODbL), "
        "naturalearth, or a GeoPackage/GeoJSON FILE of countries with an ISO alpha-3 column",
    )


def _add_scope_options(p: argparse.ArgumentParser) -> None:
    """Add the options that the report and figure commands share."""
    _add_borders(p)
    p.add_argument("--as-of", metavar="DATE", help="sites active and NATO as on YYYY-MM-DD")
    p.add_argument("--layers", metavar="A,B", help="comma-separated layer names; default all")
    p.add_argument(
        "--rings",
        metavar="KM,KM",
        default="300",
        help="range rings in km (default 300; 0 for none)",
    )
    p.add_argument(
        "--ring-sites", metavar="ID,ID", help="site ids to ring; default Russian sites in Belarus"
    )
    _add_region_options(p)


def _add_region_options(p: argparse.ArgumentParser) -> None:
    """Add --bbox and --region: the box a map, figure or report is focused on."""
    p.add_argument("--bbox", metavar="W,S,E,N", help="focus on a box, degrees: e.g. 21,53,26,56")
    p.add_argument(
        "--region", metavar="NAME", help="focus on a named region (see flankmap regions)"
    )


def _region(args: argparse.Namespace) -> tuple[float, float, float, float] | None:
    """Return the box of --bbox or --region, checked (one of them at most)."""
    from geo import regions

    return regions.focus(bbox=args.bbox, region=args.region)


def _add_excel_safe(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--excel-safe",
        action="store_true",
        help="in CSV output, write a leading ' before text cells that start with =, +, - or @ "
        "(a spreadsheet would run them as formulas)",
    )


def _add_encoding(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument(
        "--encoding",
        metavar="NAME",
        help=f"the encoding of {what} CSV files, e.g. cp1252 or latin-1 (default UTF-8)",
    )


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``flankmap`` command.

    Returns
    -------
    parser : argparse.ArgumentParser
        The parser; each subcommand sets ``func``.
    """
    parser = _Parser(
        prog="flankmap",
        description="Sourced, dated maps and geodesic measurements of NATO's eastern flank.",
    )
    parser.add_argument("--version", action=_VersionAction)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "layers",
        help="list the layers, show one layer's features, export them, or check a layers folder",
        description="flankmap layers: list the layers. flankmap layers NAME: show one layer's "
        "features. flankmap layers [NAME] -o FILE: write the layer (every layer without NAME, "
        "with a layer column) to FILE. flankmap layers check [DIR]: validate a layers folder "
        "(default the one in use) against schema v2 and list the features last verified more "
        "than a year ago.",
    )
    p.add_argument("name", nargs="?", help="a layer name, or 'check'; omit to list the layers")
    p.add_argument("folder", nargs="?", metavar="DIR", help="with check: the folder to check")
    p.add_argument("--geojson", action="store_true", help="print the layer as GeoJSON")
    p.add_argument(
        "--as-of",
        metavar="DATE",
        help="only features active on YYYY-MM-DD; with check: the day ages count to (today)",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="with check: exit 1 when a feature was last verified more than a year ago",
    )
    p.add_argument(
        "--lenient",
        action="store_true",
        help="with check: accept features without the schema v2 fields (as loading does)",
    )
    p.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write the layer (every layer without NAME, with a layer column) to FILE",
    )
    p.add_argument(
        "--format",
        metavar="FORMAT",
        help="geojson, gpkg, fgb, kml, kmz, csv or parquet (default from the -o suffix)",
    )
    _add_excel_safe(p)
    p.set_defaults(func=_cmd_layers)

    p = sub.add_parser("regions", help="list the named regions that --region takes")
    p.set_defaults(func=_cmd_regions)

    p = sub.add_parser(
        "map", help="write the interactive map: one offline, self-contained HTML file"
    )
    p.add_argument("-o", "--output", default="flankmap.html", help="the HTML file to write")
    p.add_argument(
        "--as-of",
        metavar="DATE",
        help="the day YYYY-MM-DD the map opens on (its date slider spans every date)",
    )
    p.add_argument("--layers", metavar="A,B", help="comma-separated layer names; default all")
    p.add_argument(
        "--add",
        metavar="FILE",
        action="append",
        default=[],
        help="a user layer (GeoJSON, GeoPackage or CSV with lat/lon); repeatable",
    )
    p.add_argument(
        "--rings", metavar="KM,KM", help="geodesic range rings, e.g. 100,300 (default none)"
    )
    p.add_argument(
        "--ring-sites", metavar="ID,ID", help="site ids to ring; default Russian sites in Belarus"
    )
    _add_region_options(p)
    p.add_argument(
        "--tiles",
        metavar="NAME",
        help="online tiles by xyzservices name, e.g. OpenStreetMap.Mapnik",
    )
    p.add_argument("--tiles-key", metavar="KEY", help="API key for a tile provider that needs one")
    p.add_argument(
        "--popup-fields",
        metavar="COL,COL",
        help="the columns of --add files shown in their popups, in this order (default all)",
    )
    p.add_argument(
        "--fragment",
        action="store_true",
        help="write an <iframe srcdoc> to paste into a page; as wide as the page's column",
    )
    p.add_argument(
        "--height",
        metavar="H",
        help="the fragment's height: an aspect ratio W:H (default 4:3; at least 460 px, at most "
        "85%% of the window) or a CSS height such as 600px, 80vh or 100%% (fills the host's box)",
    )
    p.add_argument(
        "--skip-invalid",
        action="store_true",
        help="map the valid rows of --add files; write the others with the reason to "
        "OUT.rejected.csv",
    )
    p.add_argument("--rejected", metavar="FILE", help="where --skip-invalid writes (CSV)")
    _add_encoding(p, "--add")
    _add_excel_safe(p)
    _add_borders(p)
    p.set_defaults(func=_cmd_map)

    p = sub.add_parser(
        "report", help="write a report page: map, sites table, distances, references (HTML)"
    )
    p.add_argument("-o", "--output", default="report.html", help="the HTML file to write")
    _add_scope_options(p)
    p.add_argument(
        "--compare", nargs=2, metavar=("DATE1", "DATE2"), help="show what changed between two dates"
    )
    p.add_argument("--title", help="the page title")
    p.add_argument(
        "--static", action="store_true", help="the static figure instead of the interactive map"
    )
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser(
        "figure", help="draw a static figure (PNG, SVG or PDF): the map or the distance chart"
    )
    p.add_argument("-o", "--output", required=True, help="FILE.png, FILE.svg or FILE.pdf")
    p.add_argument(
        "--kind", choices=["map", "distances"], default="map", help="what to draw (default map)"
    )
    _add_scope_options(p)
    p.add_argument("--no-labels", action="store_true", help="draw the sites without their names")
    p.add_argument("--title", help="the figure title")
    p.add_argument(
        "--width-cm", type=_float_option, help="width in cm (default 17, A4's text width)"
    )
    p.add_argument(
        "--height-cm", type=_float_option, help="height in cm (default 22; chart: fits bars)"
    )
    p.add_argument(
        "--dpi", type=_float_option, default=200, help="resolution of PNG output (default 200)"
    )
    p.add_argument(
        "--page",
        choices=FIGURE_PAGES,
        help="the size of a whole page (a4: 21 x 29.7 cm; text: A4's text block, 17 x 22 cm) "
        "instead of --width-cm/--height-cm",
    )
    p.add_argument(
        "--scale",
        choices=["linear", "log"],
        default="linear",
        help="distance chart: log is linear to 10 km and logarithmic beyond, so the sites "
        "within 100 km are told apart (default linear)",
    )
    p.set_defaults(func=_cmd_figure)

    p = sub.add_parser(
        "distances",
        help="exact geodesic distances of sites or points to a frontier or a territory",
    )
    source = p.add_mutually_exclusive_group()
    source.add_argument("--layers", metavar="A,B", help="comma-separated layer names; default all")
    source.add_argument("--points", metavar="FILE", help="CSV (lat/lon), GeoJSON, GPKG, GeoParquet")
    target = p.add_mutually_exclusive_group()
    target.add_argument("--frontier", metavar="A:B", help="two groups, e.g. RUS,BLR:NATO")
    target.add_argument("--to", metavar="A", help="a group's territory, e.g. RUS,BLR")
    p.add_argument("--as-of", metavar="DATE", help="sites active and NATO as on YYYY-MM-DD")
    p.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write .csv, .geojson, .parquet, .gpkg, .fgb, .kml or .kmz",
    )
    p.add_argument(
        "--format",
        metavar="FORMAT",
        help="csv, geojson, parquet, gpkg, fgb, kml or kmz (default from the -o suffix)",
    )
    p.add_argument(
        "--skip-invalid",
        action="store_true",
        help="measure the valid rows; write the others with the reason to OUT.rejected.csv",
    )
    p.add_argument("--rejected", metavar="FILE", help="where --skip-invalid writes (CSV)")
    _add_encoding(p, "--points")
    _add_excel_safe(p)
    p.add_argument(
        "--progress", action="store_true", help="show progress on stderr (default: on a terminal)"
    )
    p.add_argument(
        "--chunk-rows",
        metavar="N",
        type=_int_option,
        default=100_000,
        help="rows read and measured at a time (default 100000)",
    )
    p.add_argument(
        "--engine",
        choices=["memory", "dask"],
        default="memory",
        help="dask: --points is a folder of Parquet or CSV parts, -o gets one file",
    )
    p.add_argument(
        "--scheduler", metavar="ADDRESS", help="with --engine dask: a dask.distributed scheduler"
    )
    _add_borders(p)
    p.set_defaults(func=_cmd_distances)

    return parser


class _PrintableFormatter(logging.Formatter):
    """A log formatter whose one line shows control characters escaped (:func:`printable`)."""

    def format(self, record: logging.LogRecord) -> str:
        return printable(super().format(record))


@contextlib.contextmanager
def _notices() -> Iterator[None]:
    """Print the package's log warnings (a file reprojected, rows skipped) on stderr.

    A library's Python warning that no module turned into flankmap's words is printed the
    same way: one line, its message's first line, once per distinct message, with no source
    path or code line.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_PrintableFormatter("flankmap: warning: %(message)s"))
    handler.setLevel(logging.WARNING)
    log = logging.getLogger("geo")
    log.addHandler(handler)
    said: set[str] = set()

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        lines = [text.strip() for text in str(message).splitlines() if text.strip()]
        text = lines[0] if lines else category.__name__
        if text not in said:
            said.add(text)
            log.warning("%s", text)

    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = show
        try:
            yield
        finally:
            log.removeHandler(handler)


#: Options whose value may not be empty (an empty --frontier used to mean the default one).
_NOT_EMPTY = {
    "output": "-o/--output",
    "points": "--points",
    "frontier": "--frontier",
    "to": "--to",
    "layers": "--layers",
    "rings": "--rings",
    "ring_sites": "--ring-sites",
    "as_of": "--as-of",
    "rejected": "--rejected",
    "tiles": "--tiles",
    "tiles_key": "--tiles-key",
    "scheduler": "--scheduler",
    "add": "--add",
    "compare": "--compare",
    "borders": "--borders",
}


def _refuse_empty(args: argparse.Namespace) -> None:
    from geo._errors import InputError

    for dest, flag in _NOT_EMPTY.items():
        value = getattr(args, dest, None)
        values = value if isinstance(value, list) else [value]
        if any(isinstance(v, str) and not v.strip() for v in values):
            raise InputError(f"{flag} is empty; give a value, or leave the option out")


class _Stopped(BaseException):
    """SIGTERM or SIGHUP arrived: unwind like Ctrl-C, so that every temporary file goes."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _on_signal(signum: int, frame: object) -> None:
    for name in _STOP_SIGNALS:  # one signal is enough: let the cleanup finish
        number = getattr(signal, name)
        if signal.getsignal(number) is _on_signal:
            signal.signal(number, signal.SIG_IGN)
    raise _Stopped(signum)


#: Signals that stop the command cleanly (those whose default is to kill the process).
_STOP_SIGNALS = tuple(name for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into :class:`_Stopped` while the command runs.

    A signal that the parent ignores (``nohup`` ignores SIGHUP) stays ignored, and only the
    main thread can set handlers (a call from another thread keeps the defaults).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    for name in _STOP_SIGNALS:
        number = getattr(signal, name)
        if signal.getsignal(number) is signal.SIG_DFL:
            previous[number] = signal.signal(number, _on_signal)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


class _GuardedStdout:
    """Standard output whose write errors say so in one line (``flankmap layers > /dev/full``).

    After an error the descriptor is pointed at the null device, so that Python's last flush
    at exit prints no second error. A broken pipe (``| head``) is left to :func:`main`.
    """

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def _failed(self, exc: OSError) -> OutputError:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, self._stream.fileno())
            os.close(null)
        return OutputError(f"standard output: cannot write: {exc.strerror or exc}")

    def write(self, text: str) -> int:
        try:
            return int(self._stream.write(text))
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise self._failed(exc) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise self._failed(exc) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextlib.contextmanager
def _guarded_stdout() -> Iterator[None]:
    stream = sys.stdout
    sys.stdout = _GuardedStdout(stream)
    try:
        yield
    finally:
        try:
            sys.stdout.flush()  # also after --help, which ends in SystemExit
        finally:
            sys.stdout = stream


def _os_error_line(exc: OSError) -> str:
    """One line for an error of the system (a file that cannot be read, a full disk)."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    return f"{exc.filename}: {reason}" if exc.filename is not None else reason


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; default ``sys.argv[1:]``.

    Returns
    -------
    code : int
        0 on success, 1 when ``layers check --strict`` finds features due for a check, 2 for
        a user error or an error of the system (a file that cannot be
        read or written, a full disk), 130 after Ctrl-C, 128 + the signal number after
        SIGTERM or SIGHUP (no temporary file is left behind).
    """
    try:
        with _stop_on_signals(), _guarded_stdout():
            parser = build_parser()
            args = parser.parse_args(argv)
            with _notices():
                _refuse_empty(args)
                return int(args.func(args))
    except GeoError as exc:
        print(f"flankmap: error: {printable(exc)}", file=sys.stderr)
        return EXIT_USER_ERROR
    except BrokenPipeError:  # e.g. `flankmap layers x | head`
        sys.stderr.close()
        return 0
    except OSError as exc:
        print(f"flankmap: error: {_os_error_line(exc)}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("flankmap: interrupted", file=sys.stderr)
        return 130
    except _Stopped as exc:
        print(f"flankmap: stopped by {signal.Signals(exc.signum).name}", file=sys.stderr)
        return 128 + exc.signum


__all__ = ["EXIT_USER_ERROR", "build_parser", "format_table", "main", "printable"]

"""Shared pieces of the whole-process benchmarks: test points, timed child processes, medians.

Not part of the package: the scripts in this folder import it from their own directory.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SEED = 20261125
#: Where the random points fall: the eastern flank, Baltic to Black Sea, both sides of the border.
LON, LAT = (12.0, 32.0), (43.0, 61.0)


def write_points_csv(
    path: Path, rows: int, *, header: str = "id,name,lat,lon", seed: int = SEED
) -> Path:
    """Write ``rows`` random points as a CSV, 1M rows at a time (bounded memory at any size).

    ``header`` is ``id,name,lat,lon`` (ids ``p0, p1, ...``, names ``site 0, ...``), ``id,lat,lon``
    or ``name,lat,lon``. Coordinates have 5 decimals (about 1 m); the seed fixes every value.
    """
    columns = header.split(",")
    rng = np.random.default_rng(seed)
    block = 1_000_000
    with path.open("wb") as handle:
        handle.write(header.encode() + b"\n")
        for start in range(0, rows, block):
            n = min(block, rows - start)
            number = pc.cast(pa.array(np.arange(start, start + n)), pa.string())
            lat = pc.cast(pa.array(np.round(rng.uniform(*LAT, n), 5)), pa.string())
            lon = pc.cast(pa.array(np.round(rng.uniform(*LON, n), 5)), pa.string())
            cells = {
                "id": pc.binary_join_element_wise("p", number, ""),
                "name": pc.binary_join_element_wise("site ", number, ""),
                "lat": lat,
                "lon": lon,
            }
            lines = pc.binary_join_element_wise(*(cells[c] for c in columns), ",")
            handle.write(("\n".join(lines.to_pylist()) + "\n").encode())
    return path


def csv_to_geoparquet(source: Path, target: Path) -> Path:
    """The same rows as GeoParquet (WGS 84 points; the columns other than lat/lon kept)."""
    import geopandas as gpd
    import pandas as pd

    frame = pd.read_csv(source, dtype={"id": str, "name": str})
    points = gpd.points_from_xy(frame.pop("lon"), frame.pop("lat"))
    gpd.GeoDataFrame(frame, geometry=points, crs="EPSG:4326").to_parquet(target)
    return target


@dataclass
class Run:
    """One finished child process."""

    wall_s: float
    cpu_s: float
    peak_mib: float


# Runs the command and reports on stdout: exit status, wall s, CPU s, peak RSS KiB. A small
# process in between because a child's ru_maxrss counts the memory of the process that forked
# it (Linux keeps the high-water mark across exec): forked from this big benchmark process, every
# child would report at least the benchmark's own RSS.
_LAUNCHER = """
import os, sys, time
start = time.perf_counter()
pid = os.posix_spawnp(sys.argv[1], sys.argv[1:], os.environ,
                      file_actions=[(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)])
_, status, use = os.wait4(pid, 0)
wall = time.perf_counter() - start
print(os.waitstatus_to_exitcode(status), wall, use.ru_utime + use.ru_stime, use.ru_maxrss)
"""


def run(command: list[str], *, env: dict[str, str] | None = None) -> Run:
    """Run ``command`` to completion; its wall time, CPU time and peak resident memory.

    The peak is the child's own maximum RSS (``wait4`` in a small launcher process), so runs
    measured one after another do not inherit each other's peak, nor this process's. A failing
    command raises with its standard error.
    """
    done = subprocess.run(
        [sys.executable, "-S", "-c", _LAUNCHER, *command],
        capture_output=True,
        env=env,
        text=True,
        check=False,
    )
    code, wall, cpu, peak_kib = done.stdout.split()
    if int(code) != 0 or done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {code}: {done.stderr.strip()}")
    return Run(float(wall), float(cpu), int(peak_kib) / 1024)


def alternate(
    commands: dict[str, list[str]],
    repeats: int,
    *,
    warmup: bool = True,
    env: dict[str, str] | None = None,
) -> dict[str, list[Run]]:
    """Run the commands in turn (A B A B ...) ``repeats`` times, after one warm-up round.

    Alternating spreads any drift of a shared machine's speed over all of them alike.
    """
    if warmup:
        for command in commands.values():
            run(command, env=env)
    runs: dict[str, list[Run]] = {name: [] for name in commands}
    for _ in range(repeats):
        for name, command in commands.items():
            runs[name].append(run(command, env=env))
    return runs


def median(values: list[float]) -> float:
    return statistics.median(values)


def spread(values: list[float]) -> str:
    """``median (min-max)`` with two decimals."""
    return f"{median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def python_module(module: str, *args: str) -> list[str]:
    """A command running ``python -m module args`` with this interpreter."""
    return [sys.executable, "-m", module, *args]


def machine() -> str:
    """CPU count and load averages, for the record (the machine may be shared)."""
    one, five, fifteen = os.getloadavg()
    return f"{os.cpu_count()} CPUs, load average {one:.2f} {five:.2f} {fifteen:.2f}"

"""Where the CPU time of one ``flankmap report`` goes: CPU seconds by phase, in one process.

Run from the repository root::

    python benchmarks/report_phases.py                      # flankmap report -o <tmp>/r.html
    python benchmarks/report_phases.py --compare 2021-10-20 2025-01-01

The arguments after the script's own are those of ``flankmap report`` (``-o`` is added). The
package is imported first (the imports' CPU time is one phase), then the command runs with a
timer around each function of :data:`PHASES`: inclusive CPU seconds (``time.process_time``,
both threads of the kernel counted) and the number of calls. Nested phases are indented under
the phase that calls them; a phase called from several places counts all its calls. It is a
report for finding the big costs, not a test; ``bench_report.py`` times whole processes.
"""

from __future__ import annotations

import argparse
import collections
import functools
import importlib
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

#: (depth, module, function): the phases, in the order a report runs them.
PHASES: tuple[tuple[int, str, str], ...] = (
    (0, "geo.report", "report_data"),
    (1, "geo.layers", "load_layers"),
    (1, "geo.sites", "site_analysis"),
    (0, "geo.report", "render_report"),
    (1, "geo.report", "_map_fragment"),
    (2, "geo.maps", "build_map"),
    (3, "geo.maps", "_analyse"),
    (3, "geo.maps", "places_payload"),
    (3, "geo.maps", "basemap_payload"),
    (3, "geo.maps", "timeline_payload"),
    (4, "geo._timeline", "state_distances"),
    (3, "geo.maps", "fill_corrections"),
    (2, "geo.maps", "render_fragment"),
    (1, "geo.report", "_figure_img"),
    (2, "geo.figures", "map_figure"),
    (2, "geo.figures", "figure_bytes"),
    (1, "geo.report", "_table_html"),
    # shared by the phases above
    (0, "geo.distance", "_boundary_lines"),
    (1, "geo.distance", "line_set"),
    (0, "geo.borders", "frontier"),
    (0, "geo.borders", "_countries_cached"),
)


def _timed(label: str, func: Callable[..., Any], cpu: dict[str, float], calls: Any) -> Any:
    @functools.wraps(func)
    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.process_time()
        try:
            return func(*args, **kwargs)
        finally:
            cpu[label] += time.process_time() - start
            calls[label] += 1

    return timed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    _, report_args = parser.parse_known_args(argv)
    sys.path.insert(0, str(ROOT))
    start = time.process_time()
    from geo import cli

    for _, module, _ in PHASES:
        importlib.import_module(module)
    imports = time.process_time() - start
    cpu: dict[str, float] = collections.defaultdict(float)
    calls: collections.Counter[str] = collections.Counter()
    for _, module, name in PHASES:
        owner = importlib.import_module(module)
        label = f"{module}.{name}"
        setattr(owner, name, _timed(label, getattr(owner, name), cpu, calls))
    with tempfile.TemporaryDirectory(prefix="flankmap-phases-") as tmp:
        began = time.process_time()
        cli.main(["report", *report_args, "-o", str(Path(tmp) / "r.html")])
        command = time.process_time() - began
    print(f"\nCPU s by phase (inclusive), {' '.join(['report', *report_args])}\n")
    print(f"{'CPU s':>7} {'calls':>5}  phase")
    print(f"{imports:7.2f} {'':>5}  imports (geo and its dependencies)")
    print(f"{command:7.2f} {'':>5}  the command")
    for depth, module, name in PHASES:
        label = f"{module}.{name}"
        if calls[label]:
            print(f"{cpu[label]:7.2f} {calls[label]:5d}  {'  ' * (depth + 1)}{label}")
    print(f"{time.process_time():7.2f} {'':>5}  whole process")
    return 0


if __name__ == "__main__":
    sys.exit(main())

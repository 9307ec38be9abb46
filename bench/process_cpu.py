"""CPU time per component of a running mesh, to show where a benchmark's cycles go.

Every process the mesh started is named by what it runs (`trading`, `envoy-edge`, `postgres`
with all its backends, `valkey`), and the benchmark's own process is `load generator`.
"""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

import psutil

LOAD_GENERATOR = "load generator"


def component_name(process: psutil.Process) -> str:
    """Return the mesh component `process` belongs to, from its command line."""
    argv = process.cmdline()
    if any(part.startswith("services.") for part in argv):
        return next(p for p in argv if p.startswith("services.")).removeprefix("services.")
    if argv and Path(argv[0]).name == "envoy":
        config = argv[argv.index("-c") + 1] if "-c" in argv else "envoy"
        return f"envoy-{Path(config).stem}"
    name = process.name()
    return "valkey" if "valkey" in name else name


def cpu_seconds(mesh_pids: list[int]) -> dict[str, float]:
    """Return user+system CPU seconds so far per component (children included)."""
    totals: dict[str, float] = defaultdict(float)
    me = psutil.Process(os.getpid())
    totals[LOAD_GENERATOR] += sum(me.cpu_times()[:2])
    for pid in mesh_pids:
        try:
            root = psutil.Process(pid)
            name = component_name(root)
            for process in [root, *root.children(recursive=True)]:
                totals[name] += sum(process.cpu_times()[:2])
        except psutil.Error:
            continue  # exited meanwhile
    return dict(totals)


def cpu_percent(before: dict[str, float], after: dict[str, float],
                seconds: float) -> dict[str, float]:
    """Return each component's CPU use between two snapshots, in % of one core, busiest first."""
    used = {name: (after.get(name, 0.0) - spent) / seconds * 100 for name, spent in before.items()}
    return {name: round(share, 1)
            for name, share in sorted(used.items(), key=lambda item: -item[1]) if share >= 0.5}

"""Benchmark: stream a scenario to disk and report records per second and peak memory.

Target (issue 3): ``--preset seed`` at full scale (about 55-60 million requests) in at most
20 minutes and 2 GB of memory on a 2-core machine. Peak memory is the largest sum of the resident
set sizes (and proportional set sizes) of this process and its worker processes, sampled every
0.2 s from /proc.

    .venv/bin/python benchmarks/simulate.py --scale 1.0 --workers 2 --format jsonl.zst --out /tmp/dg-bench
    .venv/bin/python benchmarks/simulate.py --scale 0.05           # quick run

The output directory is deleted afterwards unless ``--keep`` is given.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from distillguard.simulate import generate


def _memory_kb(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process in KiB; PSS splits pages shared after fork fairly."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        return 0, 0
    return rss, pss


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(x) for x in handle.read().split()]
    except OSError:
        return []


class PeakMemory(threading.Thread):
    """Samples the RSS of this process tree until stopped."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_kb = 0  # sum of RSS (shared pages counted once per process)
        self.peak_pss_kb = 0  # sum of PSS: the tree's real footprint
        self._stop_event = threading.Event()

    def run(self) -> None:
        root = os.getpid()
        while not self._stop_event.is_set():
            pids = [root]
            for pid in list(pids):
                pids += _children(pid)
            sizes = [_memory_kb(p) for p in pids]
            self.peak_kb = max(self.peak_kb, sum(r for r, _ in sizes))
            self.peak_pss_kb = max(self.peak_pss_kb, sum(p for _, p in sizes))
            self._stop_event.wait(0.2)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--preset", default="seed")
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--format", default="jsonl.zst")
    parser.add_argument("--out", type=Path, default=Path("/tmp/dg-bench-simulate"))
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    if args.out.exists():
        shutil.rmtree(args.out)
    free = shutil.disk_usage(args.out.parent).free
    print(f"free disk at {args.out.parent}: {free / 1e9:.1f} GB")
    monitor = PeakMemory()
    monitor.start()
    started = time.perf_counter()
    cpu0 = os.times()
    manifest = generate(
        args.preset,
        scale=args.scale,
        seed=args.seed,
        out=args.out,
        fmt=args.format,
        workers=args.workers,
    )
    elapsed = time.perf_counter() - started
    cpu1 = os.times()
    monitor.stop()
    records = manifest["counts"]["requests"]
    size = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    cpu = (
        (cpu1.user - cpu0.user)
        + (cpu1.system - cpu0.system)
        + (cpu1.children_user - cpu0.children_user)
        + (cpu1.children_system - cpu0.children_system)
    )
    print(f"preset={args.preset} scale={args.scale} workers={args.workers} format={args.format}")
    print(
        f"requests={records:,} accounts={manifest['counts']['accounts']:,} segments={len(manifest['segments'])}"
    )
    print(
        f"wall={elapsed:.1f}s  records/s={records / elapsed:,.0f}  cpu={cpu:.1f}s  records/cpu-s={records / max(cpu, 1e-9):,.0f}"
    )
    print(
        f"peak memory of the process tree: RSS sum={monitor.peak_kb / 1024:,.0f} MiB "
        f"PSS sum={monitor.peak_pss_kb / 1024:,.0f} MiB  "
        f"output={size / 1e9:.2f} GB ({size / max(records, 1):.0f} B/record)"
    )
    if args.scale < 1.0:
        full = 55_600_000
        print(
            f"extrapolated to full scale (~{full / 1e6:.1f}M requests) at this rate: {full / (records / elapsed) / 60:.1f} min  [extrapolation]"
        )
    if not args.keep:
        shutil.rmtree(args.out)


if __name__ == "__main__":
    main()

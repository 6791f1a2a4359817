"""Closed-loop benchmark: what campaigns still get under hourly detection and enforcement.

Runs ``distillguard simulate --closed-loop`` as child processes, passive and adaptive attacker
side by side (one process each), and prints yield, containment, collateral and attacker cost
against the issue's targets (campaign yield at most 5% of undefended, containment within 24
simulated hours, at most 0.1% of benign requests affected), with wall time and peak memory.

    .venv/bin/python benchmarks/closed_loop.py --scale 0.05 --seed 11 --days 35
    .venv/bin/python benchmarks/closed_loop.py --scale 0.01 --seed 11 --every 1h   # all 91 days
    .venv/bin/python benchmarks/closed_loop.py --scale 0.01 --days 14 --adaptive-only --signup-from fresh

``--passive-only`` / ``--adaptive-only`` run one attacker; ``--signup-from fresh`` has the
adaptive attacker sign its replacements up from fresh residential addresses instead of the
refused request's proxy; ``--replacement-age 31d`` has it buy replacements signed up 31 days
before their first use (aged accounts), which an address challenge limited to younger accounts
lets through.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PYTHON = sys.executable
TARGETS = {"yield": 0.05, "containment_h": 24.0, "benign": 0.001}


def _start(out: Path, args: argparse.Namespace, adaptive: bool) -> subprocess.Popen[bytes]:
    cmd = [
        PYTHON,
        "-c",
        "import resource, sys\n"
        "from distillguard.cli.main import main\n"
        "try:\n"
        "    main(sys.argv[1:])\n"
        "finally:\n"
        "    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "    open(sys.argv[-1] + '/peak_kb', 'w').write(str(peak))\n",
        "simulate",
        "--closed-loop",
        "--preset",
        args.preset,
        "--scale",
        str(args.scale),
        "--seed",
        str(args.seed),
        "--every",
        args.every,
        "--window",
        args.window,
        "--account-cost",
        str(args.account_cost),
    ]
    if args.days:
        cmd += ["--days", str(args.days)]
    if adaptive:
        cmd += ["--adaptive", "--signup-from", args.signup_from]
        if args.replacement_age:
            cmd += ["--replacement-age", args.replacement_age]
    if args.policy is not None:
        cmd += ["--policy", str(args.policy)]
    cmd += ["--out", str(out)]
    out.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(out / "stderr.log", "wb"))


def _row(name: str, out: Path, wall: float) -> dict[str, Any]:
    report = json.loads((out / "closed_loop.json").read_text())
    peak_mb = int((out / "peak_kb").read_text()) / 1024
    return {"name": name, "report": report, "wall_s": wall, "peak_mb": peak_mb}


def _print(row: dict[str, Any]) -> None:
    r = row["report"]
    det = r["detection"]
    print(f"\n== {row['name']}: {r['requests']:,} requests, {r['days']} days")
    print(
        f"   {det['runs']} detection runs, {det['seconds_mean']:.2f} s mean, "
        f"{det['seconds_max']:.2f} s max; wall {row['wall_s']:.0f} s; peak {row['peak_mb']:.0f} MB"
    )
    ok = r["campaign_yield_responses"] <= TARGETS["yield"]
    print(
        f"   campaign yield: responses {r['campaign_yield_responses']:.2%}, useful "
        f"{r['campaign_yield_useful']:.2%}, output tokens {r['campaign_yield_output_tokens']:.2%}"
        f"  (target <= 5%: {'met' if ok else 'MISSED'})"
    )
    for cid, c in r["campaigns"].items():
        hours = c["containment_hours"]
        met = hours is not None and hours <= TARGETS["containment_h"]
        cost = c["cost_per_useful_response"]
        print(
            f"   {cid:<24} requests {c['requests']:>9,}  served {c['yield_responses']:6.2%}  "
            f"contained {'never' if hours is None else f'{hours:.0f} h':>6} "
            f"({'met' if met else 'MISSED'})  accounts {c['accounts_original']:,}+"
            f"{c['accounts_bought']:,}  cost/useful "
            f"{'∞' if cost is None else f'${cost:,.2f}'} (undefended "
            f"${c['cost_per_response_undefended']:,.4f})"
        )
    ok = r["benign_affected_share"] <= TARGETS["benign"]
    print(
        f"   benign affected: {r['benign_affected']:,} of {r['benign_requests']:,} "
        f"({r['benign_affected_share']:.3%}; target <= 0.1%: {'met' if ok else 'MISSED'})"
    )
    for name, p in r["personas"].items():
        if p["affected"]:
            print(
                f"     {name}: {p['affected']:,} of {p['requests']:,} ({p['affected_share']:.3%})"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="seed")
    parser.add_argument("--scale", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--days", type=int, default=None, help="default: the whole scenario")
    parser.add_argument("--every", default="1h")
    parser.add_argument("--window", default="7d")
    parser.add_argument("--account-cost", type=float, default=5.0)
    parser.add_argument(
        "--signup-from",
        choices=("proxy", "fresh"),
        default="proxy",
        help="where the adaptive attacker signs replacements up from",
    )
    parser.add_argument(
        "--replacement-age",
        default=None,
        help="the adaptive attacker's replacements were signed up this long before use (31d)",
    )
    parser.add_argument(
        "--policy", type=Path, default=None, help="enforcement policy (default: the shipped one)"
    )
    parser.add_argument("--out", type=Path, default=None, help="keep outputs here")
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--passive-only", action="store_true")
    only.add_argument("--adaptive-only", action="store_true")
    args = parser.parse_args()
    base = args.out or Path(tempfile.mkdtemp(prefix="dg-loop-"))
    runs = []
    if not args.adaptive_only:
        runs.append(("passive attacker", base / "passive", False))
    if not args.passive_only:
        runs.append(("adaptive attacker", base / "adaptive", True))
    started = time.perf_counter()
    procs = [(name, out, _start(out, args, adaptive)) for name, out, adaptive in runs]
    rows = []
    for name, out, proc in procs:
        if proc.wait() != 0:
            sys.exit(f"{name} failed: see {out / 'stderr.log'}")
        rows.append(_row(name, out, time.perf_counter() - started))
    print(
        f"closed loop: preset {args.preset}, scale {args.scale}, seed {args.seed}, "
        f"days {args.days or 'all'}, detection every {args.every} over {args.window}, "
        f"replacements sign up from {args.signup_from} addresses"
        f"{f', aged {args.replacement_age}' if args.replacement_age else ''}; "
        f"outputs in {base}"
    )
    for row in rows:
        _print(row)


if __name__ == "__main__":
    main()

"""Detection benchmarks: featurisation rate, MinHash vs datasketch, and an end-to-end run.

    .venv/bin/python benchmarks/detect.py --scale 0.01            # simulate, then measure
    .venv/bin/python benchmarks/detect.py --data DIR              # an existing scenario
    .venv/bin/python benchmarks/detect.py --micro-only            # featurisation and MinHash only
    --workers N (default 2) decodes and featurises in N processes; --asn-db PATH adds AS data.

Prompts for the micro benchmarks are the real prompts of the scenario (first 20,000; the
"distinct" figure featurises each of them once). Micro figures are CPU time (``process_time``),
best of three, so other processes on the machine disturb them less; the load average is printed.
With the C extension built, the same figures for the pure Python and numpy path (``python_``,
``numpy_``) follow, as on a machine without a compiler.
MinHash is compared with ``datasketch.MinHash.bulk`` at the ``num_perm`` detection computes and
at 128, on the same normalised prompts, tokenising included on both sides. The
end-to-end run is ``distillguard detect`` in a child process; its peak memory is the child's
maximum resident set size (the largest single process: the parent with DuckDB, or a worker);
``peak_tree_rss_gb`` is the peak of the whole process tree (parent and workers together),
sampled every 0.5 s from /proc. ``--memory-limit`` is passed to detect (DuckDB's limit).
With ``--evaluate`` the figures per persona and campaign are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


def _prompts(data: Path, limit: int) -> list[str]:
    from distillguard.logs.reader import request_batches
    from distillguard.logs.rejects import RejectSink

    prompts: list[str] = []
    for table in request_batches(data / "requests", RejectSink(None), 10_000):
        prompts.extend(p or "" for p in table.column("prompt").to_pylist())
        if len(prompts) >= limit:
            break
    return prompts[:limit]


def micro(prompts: list[str], repeats: int = 3) -> dict[str, float]:
    import datasketch
    import pyarrow as pa

    from distillguard.detect.features import minhash, prompt
    from distillguard.detect.features.featurize import BatchFeaturizer, featurize
    from distillguard.detect.features.normalize import normalize, words_of

    out: dict[str, float] = {"c_extension": float(prompt.ACCELERATED)}
    featurizer = BatchFeaturizer()
    distinct = list(dict.fromkeys(prompts))
    messages = [[{"role": "user", "content": p}] for p in distinct[:5000]]

    def featurize_all() -> None:
        for m in messages:
            featurize(m)

    c_signatures = minhash._c_signatures
    paths = [("", prompt.prompt_features, prompt.system_features, c_signatures)]
    if prompt.ACCELERATED:  # the pure Python path too, as on a machine without a compiler
        paths.append(
            ("python_", prompt.python_prompt_features, prompt.python_system_features, None)
        )
    for path, prompt_features, system_features, signatures in paths:
        saved = prompt.prompt_features, prompt.system_features
        prompt.prompt_features, prompt.system_features = prompt_features, system_features
        minhash._c_signatures = signatures
        try:
            for name, batch in (("", prompts), ("distinct_", distinct)):
                table = pa.table(
                    {
                        "prompt": batch,
                        "system": [""] * len(batch),
                        "tools": pa.array([None] * len(batch), pa.int64()),
                    }
                )
                featurizer(table.slice(0, 1000))
                seconds = _best(lambda table=table: featurizer(table), repeats)
                out[f"batch_featurise_{path}{name}prompts_per_s_per_core"] = len(batch) / seconds
            out[f"featurize_one_{path}us"] = _best(featurize_all, repeats) / len(messages) * 1e6
        finally:
            prompt.prompt_features, prompt.system_features = saved
            minhash._c_signatures = c_signatures

    # MinHash on the same normalised texts, tokenising included on both sides; datasketch as
    # its documentation recommends for many sets: MinHash.bulk (one update_batch per set).
    texts = [normalize(p) for p in distinct[:5000]]

    def datasketch_bulk(num_perm: int) -> None:
        documents = []
        for text in texts:
            words = [*words_of(text), "\x00", "\x01"]
            documents.append([" ".join(words[i : i + 3]).encode() for i in range(len(words) - 2)])
        datasketch.MinHash.bulk(documents, num_perm=num_perm)

    used = featurizer.hasher.num_perm  # what detection computes
    for num_perm in dict.fromkeys((used, 128)):
        hasher = type(featurizer.hasher)(num_perm=num_perm)
        hasher.signatures(texts[:100])
        ours = numpy = theirs = float("inf")
        for _ in range(repeats):  # interleaved, so all see the same machine load
            ours = min(ours, _best(lambda h=hasher: h.signatures(texts), 1))
            theirs = min(theirs, _best(lambda k=num_perm: datasketch_bulk(k), 1))
            if c_signatures is not None:  # the numpy path, as without a compiler
                minhash._c_signatures = None
                numpy = min(numpy, _best(lambda h=hasher: h.signatures(texts), 1))
                minhash._c_signatures = c_signatures
        out[f"minhash{num_perm}_ours_per_s"] = len(texts) / ours
        out[f"minhash{num_perm}_datasketch_bulk_per_s"] = len(texts) / theirs
        out[f"minhash{num_perm}_speedup"] = theirs / ours
        if c_signatures is not None:
            out[f"minhash{num_perm}_numpy_per_s"] = len(texts) / numpy
            out[f"minhash{num_perm}_numpy_speedup"] = theirs / numpy
    return out


def _best(run: Callable[[], object], repeats: int) -> float:
    """Fewest CPU seconds of ``repeats`` runs (CPU time: other processes share the cores)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        run()
        best = min(best, time.process_time() - start)
    return best


def _tree_rss_kb(root: int) -> int:
    """Resident memory of ``root`` and all its descendants (Linux /proc), in KiB."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue  # the process ended meanwhile
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        pid = int(entry.name)
        children.setdefault(int(fields.get("PPid", "0").strip() or 0), []).append(pid)
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0])
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total


def end_to_end(
    data: Path, out: Path, workers: int, asn_db: Path | None, memory_limit: str | None
) -> dict[str, float]:
    extra = ["--asn-db", str(asn_db)] if asn_db else []
    if memory_limit:
        extra += ["--memory-limit", memory_limit]
    start = time.perf_counter()
    proc = subprocess.Popen(
        [PYTHON, "-m", "distillguard", "detect", "--requests", str(data / "requests"),
         "--accounts", str(data / "accounts.jsonl"), "--out", str(out), "--quiet",
         "--workers", str(workers), *extra],
    )  # fmt: skip
    tree_peak_kb = 0
    while proc.poll() is None:
        tree_peak_kb = max(tree_peak_kb, _tree_rss_kb(proc.pid))
        time.sleep(0.5)
    if proc.returncode != 0:
        raise SystemExit(f"distillguard detect failed with exit status {proc.returncode}")
    seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    summary = json.loads((out / "summary.json").read_text())
    return {
        "requests": summary["requests_stored"],
        "seconds": seconds,
        "requests_per_s": summary["requests_stored"] / seconds,
        "peak_rss_gb": peak_kb / 1024 / 1024,
        "peak_tree_rss_gb": tree_peak_kb / 1024 / 1024,
        **{f"stage_{k}_s": v for k, v in summary["timings_s"].items()},
    }


def evaluate(data: Path, out: Path) -> None:
    labels = [json.loads(x) for x in (data / "labels.jsonl").read_text().splitlines()]
    findings = json.loads((out / "findings.json").read_text())
    flagged = {a["account_id"] for a in findings["accounts"] if a["flagged"]}
    total: Counter[str] = Counter()
    hits: Counter[str] = Counter()
    for label in labels:
        total[label["persona"]] += 1
        hits[label["persona"]] += label["account_id"] in flagged
    malicious = {x["account_id"] for x in labels if x["malicious"]}
    tp = len(flagged & malicious)
    print(f"recall {tp / max(len(malicious), 1):.4f} precision {tp / max(len(flagged), 1):.4f} "
          f"benign FPR {(len(flagged) - tp) / max(len(labels) - len(malicious), 1):.5f}")  # fmt: skip
    for persona in sorted(total):
        print(f"  {persona:24s} {hits[persona]:6d} / {total[persona]:6d} flagged")
    found = [set(c["account_ids"]) for c in findings["campaigns"]]
    campaigns: dict[str, set[str]] = {}
    for label in labels:
        if label["malicious"]:
            campaigns.setdefault(label["campaign_id"], set()).add(label["account_id"])
    for name, members in sorted(campaigns.items()):
        best = max((len(members & f) for f in found), default=0)
        print(
            f"  campaign {name}: {len(members)} accounts, {best / len(members):.3f} in one found campaign"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, help="existing scenario directory")
    parser.add_argument("--scale", type=float, default=0.01)
    parser.add_argument("--preset", default="seed")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/dg-bench-detect"))
    parser.add_argument("--micro-only", action="store_true")
    parser.add_argument("--evaluate", action="store_true")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--asn-db", type=Path, help="@ip-location-db/asn CSV or package directory")
    parser.add_argument("--memory-limit", help="passed to detect (DuckDB's limit), e.g. 8GB")
    args = parser.parse_args()
    data = args.data
    if data is None:
        data = args.work / f"{args.preset}-{args.scale}-{args.seed}"
        if not (data / "labels.jsonl").exists():
            subprocess.run(
                [PYTHON, "-m", "distillguard", "simulate", "--preset", args.preset, "--scale",
                 str(args.scale), "--seed", str(args.seed), "--out", str(data)],
                check=True,
            )  # fmt: skip
    results = {"load_average_1min_before": os.getloadavg()[0]}
    results.update(micro(_prompts(data, 20_000)))
    results["load_average_1min_after_micro"] = os.getloadavg()[0]
    if not args.micro_only:
        out = args.work / "out"
        results.update(end_to_end(data, out, args.workers, args.asn_db, args.memory_limit))
        if args.evaluate:
            evaluate(data, out)
    for key, value in results.items():
        print(f"{key:50s} {value:,.2f}")


if __name__ == "__main__":
    main()

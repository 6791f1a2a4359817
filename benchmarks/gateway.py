"""Throughput and added latency of the gateway, measured with wrk on loopback.

Starts the mock upstream and the gateway as separate processes (``distillguard mock-upstream``
and ``distillguard serve``) with auth, rate limits and request logging on, then drives
``POST /v1/chat/completions`` with wrk (``apt-get install -y wrk``):

* one client (``-c1``): p50/p99 latency direct to the mock and through the gateway; the
  difference of the p50s is what the gateway adds;
* many clients (``-c64``): requests per second through one gateway process;

once with the in-memory limiter and once with Redis (``--redis URL``, default the local
server). ``--litellm PATH`` also measures a LiteLLM proxy in front of the same mock (1 worker,
no master key, no limits), from its ``litellm`` binary in a separate throwaway venv::

    python3 -m venv /tmp/litellm-venv && /tmp/litellm-venv/bin/pip install 'litellm[proxy]'
    .venv/bin/python benchmarks/gateway.py --litellm /tmp/litellm-venv/bin/litellm

Run: ``.venv/bin/python benchmarks/gateway.py [--duration 10] [--redis redis://127.0.0.1:6379/14]``
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from distillguard.controlplane.store import ControlPlaneStore
from distillguard.controlplane.tiers import TierSpec

ROOT = Path(__file__).resolve().parents[1]
BODY = {
    "model": "mock-1",
    "max_tokens": 64,
    "messages": [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "Explain in one sentence what a rate limiter does."},
    ],
}
_UNIT = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def start(args: list[str], port: int, log: Path) -> subprocess.Popen[bytes]:
    handle = open(log, "ab")  # noqa: SIM115 - lives as long as the process
    proc = subprocess.Popen(args, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
    wait_port(port, proc)
    return proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def prepare_db(workdir: Path) -> tuple[str, str]:
    """A SQLite control plane with one key on a tier high enough not to throttle the run."""
    url = f"sqlite:///{workdir / 'dg.db'}"
    store = ControlPlaneStore.open(url)
    big = 10**7  # high enough never to throttle the run, low enough to count exactly
    limits = {
        scope: {"rpm": big, "itpm": big, "otpm": big, "concurrent": 100_000}
        for scope in ("key", "account", "org", "ip", "ip24", "ip48")
    }
    store.tiers.put(TierSpec(tier=99, name="bench", limits=limits))
    org = store.create_org("bench")
    account = store.create_account(org_id=org.org_id, tier=99, verification="org")
    key = store.create_key(account.account_id)
    store.close()
    return url, key.secret


def seed_enforcement(url: str, key: str, count: int, *, degrade_own: bool) -> None:
    """Fill the enforcement store at ``url`` with ``count`` actions on other subjects (accounts,
    keys, /24 and /48 prefixes). With ``degrade_own``, also a ``degrade`` on the benchmark's
    own key that rewrites every request (``max_tokens`` capped below what it asks for) and
    filters every response (reasoning withheld, logprobs dropped): the costliest path a served
    request can take. Without it, the caller has no action and only its tier's default output
    controls apply (the request is scanned, nothing is rewritten): the common path."""
    from datetime import UTC, datetime, timedelta

    from distillguard.enforce.actions import Action, ActionKind
    from distillguard.enforce.output import Logprobs, OutputControls, Reasoning
    from distillguard.enforce.store import from_url

    now = datetime.now(UTC)

    def action(subject: str, kind: ActionKind = ActionKind.SUSPEND, **extra: Any) -> Action:
        return Action(
            subject=subject,
            kind=kind,
            reason="benchmark",
            actor="benchmark",
            created_at=now,
            expires_at=now + timedelta(days=1),
            **extra,
        )

    actions = [action(f"account:acct_bench{i:06d}") for i in range(count // 2)]
    actions += [action(f"key:key_bench{i:06d}") for i in range(count // 4)]
    actions += [action(f"prefix:10.{i // 256}.{i % 256}.0/24") for i in range(count // 5)]
    actions += [action(f"prefix:2001:db8:{i:x}::/48") for i in range(count // 20)]
    key_id = key.removeprefix("dg-").rsplit("-", 1)[0]  # dg-key_<id>-<secret>
    controls = OutputControls(
        reasoning=Reasoning.NONE, logprobs=Logprobs.DROP, max_tokens=BODY["max_tokens"] // 2
    )
    if degrade_own:
        actions.append(action(f"key:{key_id}", ActionKind.DEGRADE, degrade=controls))
    store = from_url(url)
    try:
        store.replace_all(actions)
    finally:
        store.close()


def lua_script(workdir: Path, key: str) -> Path:
    path = workdir / "post.lua"
    body = json.dumps(BODY).replace("\\", "\\\\").replace('"', '\\"')
    path.write_text(
        'wrk.method = "POST"\n'
        f'wrk.body = "{body}"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {key}"\n'
    )
    return path


def wrk(url: str, script: Path, connections: int, duration: float) -> dict[str, float]:
    threads = 1 if connections == 1 else 2
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(int(duration), 1)}s",
        "--latency",
        "-s",
        str(script),
        url + "/v1/chat/completions",
    ]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    result: dict[str, float] = {}
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    result["rps"] = float(match.group(1)) if match else 0.0
    for pct in ("50", "99"):
        found = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if found:
            result[f"p{pct}_ms"] = float(found.group(1)) * _UNIT[found.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["non_2xx"] = float(errors.group(1)) if errors else 0.0
    return result


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time consumed so far by the processes (from /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def measure(
    name: str, url: str, script: Path, duration: float, pids: list[int] | None = None
) -> dict[str, Any]:
    wrk(url, script, 8, 2)  # warm-up: connection pools, caches
    single = wrk(url, script, 1, duration)
    before = cpu_seconds(pids or [])
    many = wrk(url, script, 64, duration)
    used = cpu_seconds(pids or []) - before
    row = {
        "target": name,
        "p50_ms_1client": round(single.get("p50_ms", 0.0), 3),
        "p99_ms_1client": round(single.get("p99_ms", 0.0), 3),
        "rps_1client": round(single["rps"]),
        "rps_64clients": round(many["rps"]),
        "p50_ms_64clients": round(many.get("p50_ms", 0.0), 3),
        "non_2xx": int(single["non_2xx"] + many["non_2xx"]),
    }
    if pids:
        # CPU time the measured process spent per request: what one request costs, and so the
        # throughput one process would reach on a core of its own, whatever else runs here.
        per_request_us = used / max(many["rps"] * duration, 1.0) * 1e6
        row["cpu_us_per_request"] = round(per_request_us, 1)
        row["rps_per_core_estimate"] = round(1e6 / per_request_us) if per_request_us else 0
    print(json.dumps(row), flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14", help="'' to skip")
    parser.add_argument("--log-format", default="jsonl.gz")
    parser.add_argument("--litellm", default=None, help="path of a litellm binary (other venv)")
    parser.add_argument(
        "--enforcement",
        default="redis://127.0.0.1:6379/13",
        help="Redis enforcement store to fill and serve with (memory limiter; this database and"
        " the next are replaced); '' to skip",
    )
    parser.add_argument("--actions", type=int, default=25_000, help="actions in that store")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install -y wrk")
    python = sys.executable
    workdir = Path(tempfile.mkdtemp(prefix="dg-bench-"))
    db_url, key = prepare_db(workdir)
    script = lua_script(workdir, key)
    mock_port = free_port()
    mock = start(
        [python, "-m", "distillguard", "mock-upstream", "--port", str(mock_port)],
        mock_port,
        workdir / "mock.log",
    )
    mock_url = f"http://127.0.0.1:{mock_port}"
    # (name, limiter, enforcement store or None)
    limiters: list[tuple[str, str, str | None]] = [("memory", "memory://", None)]
    if args.enforcement:
        base, _, db = args.enforcement.rpartition("/")
        degraded_url = f"{base}/{int(db) + 1}"
        seed_enforcement(args.enforcement, key, args.actions, degrade_own=False)
        seed_enforcement(degraded_url, key, args.actions, degrade_own=True)
        limiters.append(("memory+enforcement", "memory://", args.enforcement))
        limiters.append(("memory+enforcement, degraded", "memory://", degraded_url))
    if args.redis:
        limiters.append(("redis", args.redis, None))
    try:
        rows = [measure("mock upstream (direct)", mock_url, script, args.duration, [mock.pid])]
        for name, limiter, enforcement in limiters:
            port = free_port()
            extra = ["--enforcement", enforcement] if enforcement else []
            gateway = start(
                [
                    python,
                    "-m",
                    "distillguard",
                    "serve",
                    "--upstream",
                    mock_url,
                    "--db",
                    db_url,
                    "--limiter",
                    limiter,
                    "--log-dir",
                    str(workdir / f"logs-{name}"),
                    "--log-format",
                    args.log_format,
                    "--port",
                    str(port),
                    "--log-level",
                    "warning",
                    *extra,
                ],
                port,
                workdir / f"gateway-{name}.log",
            )
            try:
                rows.append(
                    measure(
                        f"gateway ({name} limiter)",
                        f"http://127.0.0.1:{port}",
                        script,
                        args.duration,
                        [gateway.pid],
                    )
                )
            finally:
                stop(gateway)
        if args.litellm:
            rows.append(run_litellm(args.litellm, mock_url, workdir, script, args.duration))
    finally:
        stop(mock)
    direct = rows[0]["p50_ms_1client"]
    print("\nsummary (added p50 = through - direct, one client):")
    for row in rows[1:]:
        added = row["p50_ms_1client"] - direct
        print(
            f"  {row['target']:<28} {row['rps_64clients']:>6} req/s   added p50 {added:+.3f} ms"
            f"   {row.get('cpu_us_per_request', '?')} us CPU/request"
            f" (~{row.get('rps_per_core_estimate', '?')} req/s per core)"
        )
    by_target = {row["target"]: row for row in rows}
    plain = by_target.get("gateway (memory limiter)")
    for name, what in (
        ("memory+enforcement", "caller without action, tier output controls"),
        ("memory+enforcement, degraded", "every request degraded: rewritten and filtered"),
    ):
        enforced = by_target.get(f"gateway ({name} limiter)")
        if plain and enforced:
            share = enforced["rps_64clients"] / plain["rps_64clients"]
            print(
                f"  enforcement on ({what}): {share:.1%} of the throughput without it"
                f" (target >= 90%); {args.actions:,} actions in the store; requests logged"
                f" as degraded: {_degraded(workdir / f'logs-{name}')}"
            )
    logs = sum(1 for _ in workdir.glob("logs-*/requests-*"))
    print(f"  request-log segments written: {logs} (in {workdir})")
    print(f"  machine load average: {os.getloadavg()}")


def _degraded(directory: Path) -> str:
    """How many of the logged requests in ``directory`` carry decision ``degrade``."""
    from distillguard.logs.reader import request_batches
    from distillguard.logs.rejects import RejectSink

    total = degraded = 0
    for table in request_batches(directory, RejectSink.collecting()):
        decisions = table.column("decision").to_pylist()
        total += len(decisions)
        degraded += sum(1 for d in decisions if d == "degrade")
    return f"{degraded:,} of {total:,}"


def run_litellm(binary: str, mock_url: str, workdir: Path, script: Path, duration: float) -> Any:
    config = workdir / "litellm.yaml"
    config.write_text(
        "model_list:\n"
        "  - model_name: mock-1\n"
        "    litellm_params:\n"
        "      model: openai/mock-1\n"
        f"      api_base: {mock_url}/v1\n"
        "      api_key: none\n"
    )
    port = free_port()
    env = dict(
        os.environ,
        LITELLM_LOG="ERROR",
        LITELLM_LOCAL_MODEL_COST_MAP="True",  # no download of the cost map at start-up
        # no master key: no authentication, as in the measurement (no limits either)
        LITELLM_DANGEROUSLY_PERMIT_WEAK_OR_UNSET_MASTER_KEY="true",
    )
    proc = subprocess.Popen(
        [binary, "--config", str(config), "--port", str(port), "--num_workers", "1"],
        stdout=open(workdir / "litellm.log", "ab"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    try:
        wait_port(port, proc, timeout=120)
        time.sleep(2)
        target = f"http://127.0.0.1:{port}"
        return measure(
            "litellm proxy (1 worker, no auth/limits)", target, script, duration, [proc.pid]
        )
    finally:
        stop(proc)


if __name__ == "__main__":
    main()

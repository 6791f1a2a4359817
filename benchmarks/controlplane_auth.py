"""Benchmark of the gateway's authenticator (distillguard.controlplane.auth).

Creates N accounts with one key each in a fresh SQLite file (and PostgreSQL when
``--postgres URL`` is given), then measures:

* ``authenticate`` per call for a valid key (dict lookup + SHA-256 + compare_digest), a wrong
  secret, and an unknown key, over keys picked at random;
* ``refresh()``: a full snapshot reload at N keys, a refresh when nothing changed (one query
  of the generation counter), and a refresh after one account was suspended (reloads only the
  keys that change touched, plus a copy of the key dict).

The gateway's target is >= 2,500 requests/s in total, i.e. a budget of 400 µs per request on one
core; authentication should take a small fraction of it.

    .venv/bin/python benchmarks/controlplane_auth.py --keys 20000
"""

from __future__ import annotations

import argparse
import contextlib
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime

from sqlalchemy import insert, text

from distillguard.controlplane import apikeys
from distillguard.controlplane.auth import CachedAuthenticator
from distillguard.controlplane.identifiers import KEY_PREFIX, new_id
from distillguard.controlplane.models import Account, ApiKey
from distillguard.controlplane.store import ControlPlaneStore
from distillguard.errors import AuthError


def populate(store: ControlPlaneStore, count: int) -> list[str]:
    """Insert ``count`` accounts with one key each, in bulk; return the full API keys."""
    now = datetime.now(UTC)
    accounts, keys, secrets = [], [], []
    for i in range(count):
        account_id = f"acct_bench{i:08d}"
        material = apikeys.generate_key(new_id(KEY_PREFIX))
        accounts.append(
            {
                "account_id": account_id,
                "created_at": now,
                "verification": "email",
                "program": "standard",
                "tier": i % 4,
                "status": "active",
            }
        )
        keys.append(
            {
                "key_id": material.key_id,
                "account_id": account_id,
                "name": "",
                "salt": material.salt,
                "secret_hash": material.secret_hash,
                "created_at": now,
            }
        )
        secrets.append(material.api_key)
    with store.engine.begin() as connection:
        connection.execute(insert(Account), accounts)
        connection.execute(insert(ApiKey), keys)
    if (
        store.engine.dialect.name == "postgresql"
    ):  # as autovacuum would, so the planner has statistics
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))
    return secrets


def per_call_us(fn: object, args: list[str], rounds: int = 5) -> float:
    """Median over ``rounds`` of the mean time per call, in microseconds."""
    call = fn  # type: ignore[assignment]
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for arg in args:
            with contextlib.suppress(AuthError):
                call(arg)  # type: ignore[operator]
        samples.append((time.perf_counter() - start) / len(args) * 1e6)
    return statistics.median(samples)


def run(url: str, count: int, label: str) -> None:
    store = ControlPlaneStore.open(url, migrate=True)
    secrets = populate(store, count)
    auth = CachedAuthenticator(store.engine)
    refresh_s = statistics.median(_timed(lambda: auth.refresh(force=True)) for _ in range(3))
    idle_s = statistics.median(_timed(auth.refresh) for _ in range(20))
    sample = random.Random(7).choices(secrets, k=50_000)
    wrong = [s[:-1] + ("A" if s[-1] != "A" else "B") for s in sample]
    unknown = [s.replace("dg-key_", "dg-key_Z", 1)[:-1] for s in sample]
    print(f"[{label}] keys={count}")
    print(f"  refresh, full reload:  {refresh_s * 1000:.1f} ms")
    print(f"  refresh, no change:    {idle_s * 1000:.2f} ms")
    print(f"  authenticate valid:    {per_call_us(auth.authenticate, sample):.2f} µs/call")
    print(f"  authenticate wrong:    {per_call_us(auth.authenticate, wrong):.2f} µs/call")
    print(f"  authenticate unknown:  {per_call_us(auth.authenticate, unknown):.2f} µs/call")
    changed = []
    for i in range(5):
        store.suspend_account(f"acct_bench{i:08d}", "benchmark")
        changed.append(_timed(auth.refresh))
    change_s = statistics.median(changed)
    print(f"  refresh, one account suspended: {change_s * 1000:.2f} ms")
    auth.close()
    store.close()


def _timed(fn: object) -> float:
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=20_000)
    parser.add_argument(
        "--postgres", default=None, help="postgresql://… of an EMPTY scratch database"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{tmp}/bench.db", args.keys, "sqlite")
    if args.postgres:
        run(args.postgres, args.keys, "postgresql")


if __name__ == "__main__":
    main()

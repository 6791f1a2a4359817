"""Generates a whole scenario to disk: request segments in time order, accounts, labels and a
manifest. Days are independent given the seed, so they can be split over worker processes
without changing a byte of the output.

Layout of ``out``::

    requests/requests-<first ts>-d<day>p<part>.<ext>   dg.request.v1 segments, names sort in time order
    accounts.jsonl                                     dg.account.v1, ordered by sign-up time
    labels.jsonl                                       dg.labels.v1 (+ ``requests``: the account's request count)
    manifest.json                                      what was generated (see :func:`generate`)
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from distillguard.errors import ConfigurationError, StorageError
from distillguard.logs.segments import FORMATS, Format, SegmentWriter
from distillguard.simulate import clients, evalsets, identities, networks, population, presets
from distillguard.simulate.population import Group
from distillguard.simulate.render import Renderer
from distillguard.simulate.streams import Clock
from distillguard.simulate.traffic import Traffic

SEGMENT_RECORDS = 250_000
_STATE: dict[str, Any] = {}


def _rename(path: Path, day: int, part: int, fmt: str) -> Path:
    stamp = path.name.split("-")[1]
    target = path.with_name(f"requests-{stamp}-d{day:03d}p{part:03d}.{fmt}")
    os.replace(path, target)
    return target


def _start_worker(preset_name: str, scale: float, seed: int, directory: Path, fmt: str) -> None:
    traffic, _ = prepare(preset_name, scale, seed)
    _STATE.update(traffic=traffic, directory=directory, fmt=fmt)


def _run_days(days: list[int]) -> tuple[list[np.ndarray], list[tuple[int, int, list[str]]]]:
    """Write ``days``; return per-account request totals and (day, requests, segment names)."""
    traffic: Traffic = _STATE["traffic"]
    directory: Path = _STATE["directory"]
    fmt: Format = _STATE["fmt"]
    totals = [np.zeros(g.size, dtype=np.int64) for g in traffic.groups]
    done: list[tuple[int, int, list[str]]] = []
    writer = SegmentWriter(directory, prefix="requests", fmt=fmt, max_records=SEGMENT_RECORDS)
    try:
        for day in days:
            before = len(writer.segments)
            cols = traffic.columns(day)
            if cols:
                for gi, g in enumerate(traffic.groups):
                    mine = cols["group"] == gi
                    totals[gi] += np.bincount(cols["account"][mine], minlength=g.size)
            for record in traffic.render(cols, day << 32):
                writer.write(record)
            writer.rotate()
            names = [_rename(p, day, k, fmt).name for k, p in enumerate(writer.segments[before:])]
            done.append((day, len(cols["ts"]) if cols else 0, names))
    finally:
        writer.close()
    return totals, done


def prepare(preset_name: str, scale: float, seed: int) -> tuple[Traffic, population.Builder]:
    """The scenario's traffic generator and population (accounts, labels), nothing written."""
    preset = presets.load(preset_name, scale)
    clock = Clock(presets.START)
    groups, builder = population.build(preset, seed, clock)
    models = [*presets.BASE_MODELS, *(r.model for r in preset.releases)]
    renderer = Renderer(groups, builder.book, clock, models, seed)
    return Traffic(preset, seed, groups, clock, renderer), builder


def records(traffic: Traffic, first_day: int = 0) -> Iterator[dict[str, Any]]:
    """Every request of the scenario from ``first_day`` on, in time order (lazily)."""
    for day in range(first_day, traffic.preset.days):
        yield from traffic.records(day, day << 32)


def generate(
    preset_name: str,
    *,
    scale: float,
    seed: int,
    out: Path | str,
    fmt: str = "jsonl.zst",
    workers: int = 1,
) -> dict[str, Any]:
    """Write the scenario ``preset_name`` at ``scale`` from ``seed`` into ``out``; return the manifest."""
    if fmt not in FORMATS:
        raise ConfigurationError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    if workers < 1:
        raise ConfigurationError("workers must be at least 1")
    out = Path(out)
    requests_dir = out / "requests"
    if requests_dir.exists() and any(requests_dir.iterdir()):
        raise ConfigurationError(f"{requests_dir} is not empty; choose a new --out directory")
    try:
        requests_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"cannot create {requests_dir}: {exc}") from exc
    traffic, builder = prepare(preset_name, scale, seed)
    preset, groups, clock = traffic.preset, traffic.groups, traffic.clock
    days = list(range(preset.days))
    try:
        if workers == 1:
            _STATE.update(traffic=traffic, directory=requests_dir, fmt=fmt)
            parts = [_run_days(days)]
        else:
            # spawned workers rebuild the same population from the seed: no fork of a threaded
            # parent, nothing large to pickle, and the bytes do not depend on the worker count
            context = multiprocessing.get_context("spawn")
            shards = [days[k::workers] for k in range(workers)]
            setup = (preset_name, scale, seed, requests_dir, fmt)
            with context.Pool(workers, initializer=_start_worker, initargs=setup) as pool:
                parts = pool.map(_run_days, shards)
    finally:
        _STATE.clear()
    per_account = [np.zeros(g.size, dtype=np.int64) for g in groups]
    finished: list[tuple[int, int, list[str]]] = []
    for totals, done in parts:
        for gi, c in enumerate(totals):
            per_account[gi] += c
        finished += done
    finished.sort(key=lambda item: item[0])
    per_day = [n for _, n, _ in finished]
    segments = [name for _, _, names in finished for name in names]
    _write_accounts(out, builder.accounts)
    _write_labels(out, builder.labels, groups, per_account)
    manifest = _manifest(preset, seed, scale, fmt, clock, groups, per_account, segments, per_day)
    (out / "manifest.json").write_bytes(
        orjson.dumps(manifest, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    )
    return manifest


def _write_accounts(out: Path, accounts: list[dict[str, Any]]) -> None:
    ordered = sorted(accounts, key=lambda a: (a["created_at"], a["account_id"]))
    (out / "accounts.jsonl").write_bytes(b"".join(orjson.dumps(a) + b"\n" for a in ordered))


def _write_labels(
    out: Path, labels: list[dict[str, Any]], groups: list[Group], per_account: list[np.ndarray]
) -> None:
    counts = {
        g.ids[i]: int(c[i]) for g, c in zip(groups, per_account, strict=True) for i in range(g.size)
    }
    ordered = sorted(labels, key=lambda x: x["account_id"])
    (out / "labels.jsonl").write_bytes(
        b"".join(orjson.dumps({**x, "requests": counts[x["account_id"]]}) + b"\n" for x in ordered)
    )


def _manifest(
    preset: presets.Preset,
    seed: int,
    scale: float,
    fmt: str,
    clock: Clock,
    groups: list[Group],
    per_account: list[np.ndarray],
    segments: list[str],
    per_day: list[int],
) -> dict[str, Any]:
    personas: dict[str, Any] = {}
    campaigns: dict[str, Any] = {}
    for g, counts in zip(groups, per_account, strict=True):
        entry: dict[str, Any] = {"accounts": g.size, "requests": int(counts.sum())}
        if g.campaign is not None:
            knobs = asdict(g.campaign)
            entry.update(persona=g.campaign.persona, knobs=knobs)
            campaigns[g.campaign.campaign_id] = entry
        else:
            personas[g.name] = entry
    malicious_requests = sum(c["requests"] for c in campaigns.values())
    benign_requests = sum(p["requests"] for p in personas.values())
    return {
        "schema": "dg.scenario.v1",
        "preset": preset.name,
        "description": preset.description,
        "seed": seed,
        "scale": scale,
        "format": fmt,
        "start": clock.iso(0),
        "end": clock.iso(int(timedelta(days=preset.days).total_seconds() * 1000)),
        "days": preset.days,
        "counts": {
            "accounts": sum(g.size for g in groups),
            "benign_accounts": sum(p["accounts"] for p in personas.values()),
            "malicious_accounts": sum(c["accounts"] for c in campaigns.values()),
            "requests": malicious_requests + benign_requests,
            "benign_requests": benign_requests,
            "malicious_requests": malicious_requests,
            "requests_per_day": per_day,
        },
        "personas": personas,
        "campaigns": campaigns,
        "models": [*presets.BASE_MODELS, *(r.model for r in preset.releases)],
        "releases": [{"model": r.model, "at": clock.iso(r.offset_ms)} for r in preset.releases],
        "networks": networks.manifest_table(),
        "material": {
            "coding_benchmark": evalsets.source(),
            "disposable_domains": identities.disposable_source(),
            "user_agents": clients.USER_AGENT_SOURCE,
        },
        "segments": segments,
        "files": {"requests": "requests/", "accounts": "accounts.jsonl", "labels": "labels.jsonl"},
    }

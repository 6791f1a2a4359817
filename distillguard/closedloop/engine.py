"""The closed loop: a scenario replayed hour by hour through detection, policy and the gateway.

For each simulated hour, every request of the scenario goes through :class:`GatewayModel`
against the enforcement store as it stands, and is written to the defended log as the gateway
would have logged it (refusals included). At the end of every ``every_hours``-th hour a
detection run reads the new log segments, and the policy's actions reach the store, to be
applied from the next request on. The undefended run is the scenario itself: every request it
logs as served is what the campaign would have received without distillguard.

Output (``out``): ``requests/`` (the defended dg.request.v1 log, one segment per hour),
``accounts.jsonl`` and ``labels.jsonl`` (the scenario's, plus the adaptive attacker's
replacement accounts), ``audit.jsonl`` (every enforcement change), ``rejects.jsonl`` and
``closed_loop.json`` (the figures, see :mod:`~distillguard.closedloop.tally`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import orjson

from distillguard.closedloop.attacker import SIGNUP_FROM, Attacker
from distillguard.closedloop.detection import LoopDetector
from distillguard.closedloop.gateway import Caller, GatewayModel
from distillguard.closedloop.tally import Tally
from distillguard.detect.config import DetectConfig, load_config
from distillguard.enforce.audit import JsonlAuditLog
from distillguard.enforce.enforcer import Enforcer
from distillguard.enforce.policy import load_policy
from distillguard.enforce.store.memory import MemoryStore
from distillguard.errors import ConfigurationError, StorageError
from distillguard.logs.rejects import RejectSink
from distillguard.logs.segments import FORMATS, Format, SegmentWriter
from distillguard.logs.validate import parse_timestamp
from distillguard.simulate import scenario
from distillguard.simulate.population import Group
from distillguard.simulate.streams import HOUR_MS

REPORT_NAME = "closed_loop.json"

Progress = Callable[[int, int], None]  # (hours done, hours in all)


@dataclass(frozen=True)
class LoopOptions:
    """What to replay and how the defence runs."""

    out: Path
    preset: str = "seed"
    scale: float = 0.001
    seed: int = 7
    fmt: str = "jsonl.zst"
    days: int | None = None  # replay only the first N days (default: the whole scenario)
    every_hours: int = 1  # a detection run every N simulated hours
    window_hours: int = 7 * 24  # each run looks at this much of the log
    policy: Path | None = None  # default: the shipped policy
    detect_config: Path | None = None  # default: detection's, with closedloop/detect.toml over it
    adaptive: bool = False  # replace blocked campaign accounts
    account_cost: float = 5.0  # what a fresh account costs the attacker (USD)
    signup_from: str = "proxy"  # where replacements sign up from: proxy | fresh
    replacement_age_hours: int = 0  # replacements signed up this long before their first use
    contained_share: float = 0.05

    def check(self) -> None:
        if self.fmt not in FORMATS:
            raise ConfigurationError(
                f"unknown format {self.fmt!r}; use one of {', '.join(FORMATS)}"
            )
        if self.every_hours < 1:
            raise ConfigurationError("every_hours must be at least 1")
        if self.window_hours < self.every_hours:
            raise ConfigurationError("the window must be at least as long as the run interval")
        if self.days is not None and self.days < 1:
            raise ConfigurationError("days must be at least 1")
        if self.account_cost < 0:
            raise ConfigurationError("account_cost must be >= 0")
        if self.signup_from not in SIGNUP_FROM:
            raise ConfigurationError(
                f"unknown signup_from {self.signup_from!r}; use one of {', '.join(SIGNUP_FROM)}"
            )
        if self.replacement_age_hours < 0:
            raise ConfigurationError("replacement_age_hours must be >= 0")
        if not 0 < self.contained_share < 1:
            raise ConfigurationError("contained_share must be between 0 and 1")


def run_closed_loop(options: LoopOptions, progress: Progress | None = None) -> dict[str, Any]:
    """Run the loop, write its outputs to ``options.out`` and return the report."""
    options.check()
    started = time.perf_counter()
    out = options.out
    requests_dir = out / "requests"
    if requests_dir.exists() and any(requests_dir.iterdir()):
        raise ConfigurationError(f"{requests_dir} is not empty; choose a new --out directory")
    try:
        requests_dir.mkdir(parents=True, exist_ok=True)
        (out / "audit.jsonl").unlink(missing_ok=True)
    except OSError as exc:
        raise StorageError(f"cannot prepare {out}: {exc}") from exc
    traffic, builder = scenario.prepare(options.preset, options.scale, options.seed)
    days = min(options.days or traffic.preset.days, traffic.preset.days)
    hours = days * 24
    loop = _Loop(options, traffic.groups, builder.accounts, builder.labels, hours)
    try:
        for day in range(days):
            cols = traffic.columns(day)
            if cols:
                hour_of = (cols["ts"] // HOUR_MS).tolist()
                group_of = cols["group"].tolist()
                moments = ((cols["ts"] + traffic.clock.start_ms) / 1000.0).tolist()
                for i, record in enumerate(traffic.render(cols, day << 32)):
                    loop.advance_to(hour_of[i], progress)
                    loop.request(record, group_of[i], hour_of[i], moments[i])
            loop.advance_to((day + 1) * 24, progress)
    finally:
        loop.close()
    report = loop.report(options, days, time.perf_counter() - started)
    (out / REPORT_NAME).write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    return report


class _Loop:
    """The state of one run: gateway model, detector, attacker, tally and outputs."""

    def __init__(
        self,
        options: LoopOptions,
        groups: list[Group],
        accounts: list[dict[str, Any]],
        labels: list[dict[str, Any]],
        hours: int,
    ) -> None:
        from distillguard.simulate.presets import START

        out = options.out
        self.options = options
        self.start = START
        self.groups = groups
        self.hours = hours
        self.hour = 0
        self.accounts = sorted(accounts, key=lambda a: (a["created_at"], a["account_id"]))
        self.by_id = {a["account_id"]: a for a in self.accounts}
        self.labels = list(labels)
        self.callers = {a["account_id"]: _caller(a) for a in self.accounts}
        self.attacker = Attacker(
            options.adaptive,
            options.account_cost,
            options.seed,
            options.signup_from,
            options.replacement_age_hours * 3600.0,
        )
        for g in groups:
            if g.campaign is not None:
                self.attacker.original_accounts[g.campaign.campaign_id] = g.size
        self.tally = Tally(hours, options.contained_share)
        self.store = MemoryStore()
        self.enforcer = Enforcer(self.store, JsonlAuditLog(out / "audit.jsonl"), renew_margin=0.5)
        self.gateway = GatewayModel(self.store)
        fmt: Format = options.fmt  # type: ignore[assignment]
        self.writer = SegmentWriter(out / "requests", fmt=fmt, max_records=1 << 40)
        self.rejects = RejectSink(out / "rejects.jsonl")
        self.detector = LoopDetector(
            out / "requests",
            config=_detect_config(options.detect_config),
            policy=load_policy(options.policy),
            enforcer=self.enforcer,
            window=timedelta(hours=options.window_hours),
            rejects=self.rejects,
        )
        self._created_upto = 0  # accounts[:n] exist by the current hour

    def close(self) -> None:
        self.writer.close()
        self.rejects.close()
        self.detector.close()
        self.gateway.close()

    def advance_to(self, hour: int, progress: Progress | None) -> None:
        """Finish every hour before ``hour``: close its segment and run detection when due."""
        while self.hour < min(hour, self.hours):
            self.writer.rotate()
            self.hour += 1
            if self.hour % self.options.every_hours == 0:
                now = self.start + timedelta(hours=self.hour)
                self.detector.run(now, self._existing(now.strftime("%Y-%m-%dT%H:%M:%S.999Z")))
            if progress is not None:
                progress(self.hour, self.hours)

    def _existing(self, cutoff: str) -> list[dict[str, Any]]:
        n = self._created_upto
        while n < len(self.accounts) and self.accounts[n]["created_at"] <= cutoff:
            n += 1
        self._created_upto = n
        return self.accounts[:n]

    def request(self, record: dict[str, Any], group: int, hour: int, now: float) -> None:
        g = self.groups[group]
        campaign_id = g.campaign.campaign_id if g.campaign is not None else None
        original = record["account_id"]
        served = int(record.get("status") or 0) < 400
        tokens = int(record.get("output_tokens") or 0) if served else 0
        if campaign_id is not None:
            self.attacker.remap(record)
        caller = self.callers.get(record["account_id"], _UNKNOWN)
        outcome = self.gateway.handle(record, now, caller)
        if campaign_id is not None and outcome.decision in ("block", "challenge"):
            bought = self.attacker.refused(original, record, campaign_id, self.by_id[original])
            if bought is not None:
                self._add_account(bought.account, campaign_id, g)
        self.tally.add(campaign_id, g.name, hour, served, tokens, outcome)
        self.writer.write(record)

    def _add_account(self, account: dict[str, Any], campaign_id: str, g: Group) -> None:
        # created now, so it sorts after every account that exists already
        self.accounts.insert(self._created_upto, account)
        self._created_upto += 1
        self.by_id[account["account_id"]] = account
        self.callers[account["account_id"]] = _caller(account)
        persona = g.campaign.persona if g.campaign is not None else g.name
        self.labels.append(
            {
                "account_id": account["account_id"],
                "malicious": True,
                "campaign_id": campaign_id,
                "persona": persona,
            }
        )

    def report(self, options: LoopOptions, days: int, seconds: float) -> dict[str, Any]:
        out = options.out
        accounts = sorted(self.accounts, key=lambda a: (a["created_at"], a["account_id"]))
        (out / "accounts.jsonl").write_bytes(b"".join(orjson.dumps(a) + b"\n" for a in accounts))
        labels = sorted(self.labels, key=lambda x: x["account_id"])
        (out / "labels.jsonl").write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in labels))
        figures = self.tally.report(self.attacker)
        hourly = {cid: self.tally.hourly(cid) for cid in self.tally.campaigns}
        settings = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(options).items()}
        return {
            "schema": "dg.closed_loop.v1",
            "options": settings,
            "days": days,
            "start": self.start.isoformat().replace("+00:00", "Z"),
            "seconds": round(seconds, 1),
            "requests": self.writer.records_written,
            "rejected_log_records": self.rejects.total,
            "detection": self.detector.summary(),
            **figures,
            "hourly": hourly,
        }


_UNKNOWN = Caller()


def _detect_config(path: Path | None) -> DetectConfig:
    """The given detection config, or detection's defaults with the loop's overrides."""
    if path is not None:
        return load_config(path)
    with resources.as_file(resources.files("distillguard.closedloop") / "detect.toml") as own:
        return load_config(own)


def _caller(account: dict[str, Any]) -> Caller:
    created = account.get("created_at")
    return Caller(
        tier=int(account.get("tier") or 0),
        verification=account.get("verification") or "none",
        created=parse_timestamp(created, "created_at") / 1000 if created else None,
    )

"""One detection run, end to end: logs in, dg.findings.v1 out.

ingest (read, validate, featurise; :mod:`distillguard.detect.store`) → per-account behaviour
(:mod:`~distillguard.detect.behaviour`) and sign-up traces (:mod:`~distillguard.detect.signup`)
→ own scores (:mod:`~distillguard.detect.scoring`) → evidence keys, rarity-weighted edges and
Leiden communities among candidate accounts (:mod:`~distillguard.detect.linking`) → campaigns
(:mod:`~distillguard.detect.campaigns`) → final scores and findings.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from distillguard.detect.behaviour import compute_features
from distillguard.detect.campaigns import Campaign, build_campaigns
from distillguard.detect.cohort import find_cohorts
from distillguard.detect.config import DetectConfig
from distillguard.detect.enrich.network import load_asn_database
from distillguard.detect.exits import add_exit_addresses
from distillguard.detect.linking.communities import find_communities
from distillguard.detect.linking.edges import build_edges
from distillguard.detect.linking.evidence import build_evidence
from distillguard.detect.scoring import AccountScore, add_campaign, add_cohort, own_scores
from distillguard.detect.signup import compute_signup
from distillguard.detect.store import Store
from distillguard.errors import StorageError
from distillguard.logs.arrow import ACCOUNT_SCHEMA
from distillguard.logs.reader import read_accounts, request_batches
from distillguard.logs.rejects import RejectSink

FINDINGS_SCHEMA = "dg.findings.v1"


@dataclass
class DetectOptions:
    """Inputs and switches of one run."""

    requests: Path
    accounts: Path | None
    out: Path
    incremental: bool = False
    since: float | None = None
    asn_database: Path | None = None
    memory_limit: str | None = None
    workers: int = 1
    progress: Callable[[int], None] | None = None
    watchlist: Path | None = None  # a partner watchlist (``distillguard intel import``)


@dataclass
class DetectResult:
    """What a run produced (also written to ``out``)."""

    findings: dict[str, Any]
    summary: dict[str, Any]
    campaigns: list[Campaign] = field(default_factory=list)


def run_detection(options: DetectOptions, config: DetectConfig) -> DetectResult:
    """Run detection and write ``findings.json``, ``rejects.jsonl`` and ``summary.json``."""
    import orjson

    out = options.out
    out.mkdir(parents=True, exist_ok=True)
    state_path = out / "state" / "detect.duckdb"
    if not options.incremental and state_path.exists():
        state_path.unlink()
    rejects_path = out / "rejects.jsonl"
    if not options.incremental and rejects_path.exists():
        rejects_path.unlink()
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 3)
        clock = now

    store = Store(state_path, memory_limit=options.memory_limit)
    with RejectSink(rejects_path) as rejects:
        try:
            ingested = store.ingest(
                options.requests,
                rejects,
                since=options.since,
                asn=load_asn_database(options.asn_database),
                progress=options.progress,
                workers=options.workers,
            )
            lap("ingest")
            accounts = (
                read_accounts(options.accounts, rejects)
                if options.accounts is not None
                else ACCOUNT_SCHEMA.empty_table()
            )
            store.set_accounts(accounts)
            watched = _watchlist_reasons(options)
            lap("watchlist")
            if store.has_requests():
                result = _analyse(store, config, timings, lap, watched)
                result.summary["watchlist_accounts"] = len(watched)
            else:
                # Every record was rejected (or there were none): still a complete run.
                findings = _findings({}, [], config, None)
                result = DetectResult(
                    findings,
                    {
                        "accounts_analysed": 0,
                        "accounts_flagged": 0,
                        "campaigns": 0,
                        "requests_stored": 0,
                    },
                )
        except duckdb.OutOfMemoryException as exc:
            limit = options.memory_limit or "DuckDB's default, 80% of RAM"
            done = list(timings)
            where = f"in the step after {done[-1]}" if done else "in ingest"
            raise StorageError(
                f"detection ran out of memory {where} (limit: {limit}); give it more with "
                f"--memory-limit, or fewer rows per run (--since); DuckDB said: "
                f"{str(exc).splitlines()[0]}"
            ) from None
        finally:
            store.close()
        result.summary.update(
            {
                "requests_ingested": ingested,
                "accounts_read": accounts.num_rows,
                "rejected": rejects.total,
                "rejected_by_reason": dict(rejects.counts.most_common()),
                "timings_s": timings,
            }
        )
    (out / "findings.json").write_bytes(orjson.dumps(result.findings, option=orjson.OPT_INDENT_2))
    (out / "summary.json").write_bytes(orjson.dumps(result.summary, option=orjson.OPT_INDENT_2))
    return result


def _watchlist_reasons(options: DetectOptions) -> dict[str, dict[str, object]]:
    """Per account, the ``partner_watchlist`` reason of a partner's indicators, if one is given.

    The whole log is matched (not only new segments), because a watchlist can arrive after the
    requests it names; bad records were already counted by the ingest, so they are not again.
    """
    if options.watchlist is None:
        return {}
    from distillguard.intel.signal import watchlist_reasons
    from distillguard.intel.watchlist import Watchlist

    watchlist = Watchlist.load(options.watchlist)
    return watchlist_reasons(watchlist, request_batches(options.requests, RejectSink.collecting()))


def analyse(
    store: Store, config: DetectConfig, watched: dict[str, dict[str, object]] | None = None
) -> DetectResult:
    """Score and link what ``store`` already holds (it must hold requests).

    For callers that keep one store across many runs, such as the closed-loop simulator; the
    step timings are in ``summary["timings_s"]``.
    """
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 3)
        clock = now

    result = _analyse(store, config, timings, lap, watched or {})
    result.summary["timings_s"] = timings
    return result


def _analyse(
    store: Store,
    config: DetectConfig,
    timings: dict[str, float],
    lap: Callable[[str], None],
    watched: dict[str, dict[str, object]],
) -> DetectResult:
    db = store.db
    compute_features(db)
    compute_signup(db)
    lap("behaviour")
    rows = (
        db.sql(
            "SELECT f.*, s.* EXCLUDE (account_id) FROM account_features f "
            "LEFT JOIN account_signup s USING (account_id)"
        )
        .to_arrow_table()
        .to_pylist()
    )
    scores = own_scores(rows, config)
    for account, reason in watched.items():
        score = scores.setdefault(account, AccountScore(account))
        score.add(str(reason["signal"]), float(str(reason["weight"])), str(reason["detail"]))
    own = {a: s.score for a, s in scores.items()}
    extraction = {a: s.extraction for a, s in scores.items()}
    link = config.linking
    candidates = [a for a, s in own.items() if s >= float(link["candidate_score"])]
    db.register("candidate_view", pa.table({"account_id": pa.array(candidates, pa.string())}))
    db.execute("CREATE OR REPLACE TABLE candidates AS SELECT * FROM candidate_view")
    db.unregister("candidate_view")
    lap("own_scores")
    kinds = config.key_kinds()
    build_evidence(db, kinds)
    build_edges(
        db,
        kinds,
        min_accounts=int(link["min_accounts"]),
        pair_cap=int(link["pair_cap"]),
        neighbours=int(link["neighbours"]),
        min_edge_weight=float(link["min_edge_weight"]),
        min_mixed_weight=float(link["min_mixed_edge_weight"]),
    )
    lap("edges")
    min_size = int(link["min_campaign_size"])
    find_communities(
        db,
        resolution=float(link["resolution"]),
        min_size=min_size,
        merge_ratio=float(link["merge_ratio"]),
    )
    found = build_campaigns(
        db,
        extraction,
        min_size=min_size,
        attach_links=int(link["attach_links"]),
        attach_weight=float(link["attach_weight"]),
        attach_confidence=float(link["attach_confidence"]),
        attach_max_age_days=int(link["attach_max_age_days"]),
    )
    campaigns = [c for c in found if c.confidence >= float(link["min_campaign_confidence"])]
    for number, campaign in enumerate(campaigns, start=1):
        campaign.campaign_id = f"C{number:04d}"
        for account in campaign.account_ids:
            score = scores.setdefault(account, AccountScore(account))
            add_campaign(score, campaign.campaign_id, campaign.confidence, config)
    # accounts whose requests in the window carry no extraction signal have shown what they do
    cleared = {
        str(row["account_id"])
        for row in rows
        if not scores[str(row["account_id"])].asks_for_extraction
    }
    cohorts = find_cohorts(
        db,
        campaigns,
        cleared,
        min_confidence=float(link["cohort_confidence"]),
        min_members=int(link["cohort_min_members"]),
        share=float(link["cohort_share"]),
        max_age_days=int(link["attach_max_age_days"]),
    )
    for member in cohorts:
        score = scores.setdefault(member.account_id, AccountScore(member.account_id))
        add_cohort(score, member.confidence, member.detail(), config)
    suspect = float(link["exit_suspect_score"])
    exits = add_exit_addresses(
        db,
        campaigns,
        [a for a, s in scores.items() if s.score >= suspect],
        min_confidence=float(link["exit_confidence"]),
        share=float(link["exit_share"]),
        recent_hours=int(link["exit_recent_hours"]),
        limit=int(link["exit_limit"]),
        max_age_days=int(link["attach_max_age_days"]),
    )
    lap("campaigns")
    window = db.execute("SELECT min(ts), max(ts) FROM requests").fetchone()
    findings = _findings(scores, campaigns, config, window)
    flagged = sum(1 for a in findings["accounts"] if a["flagged"])
    summary = {
        "accounts_analysed": len(rows),
        "accounts_flagged": flagged,
        "campaigns": len(campaigns),
        "cohort_accounts": len(cohorts),
        "exit_addresses": exits,
        "communities_considered": len(found),
        "candidates_linked": len(candidates),
        "edges": _count(db, "edges"),
        "requests_stored": _count(db, "requests"),
        "window": findings["window"],
    }
    return DetectResult(findings, summary, campaigns)


def _count(db: Any, table: str) -> int:
    row = db.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else 0


def _rfc3339(moment: datetime | None) -> str:
    moment = moment or datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _findings(
    scores: dict[str, AccountScore],
    campaigns: list[Campaign],
    config: DetectConfig,
    window: tuple[Any, ...] | None,
) -> dict[str, Any]:
    threshold = config.threshold
    accounts = []
    for score in sorted(scores.values(), key=lambda s: (-s.total, s.account_id)):
        if score.total <= 0 and score.campaign_id is None:
            continue
        value = round(score.score, 4)
        accounts.append(
            {
                "account_id": score.account_id,
                "score": value,
                "flagged": score.score >= threshold,
                "campaign_id": score.campaign_id,
                "reasons": sorted(score.reasons, key=lambda r: -r["weight"]),
            }
        )
    start, end = (window or (None, None))[:2]
    return {
        "schema": FINDINGS_SCHEMA,
        "generated_at": _rfc3339(datetime.now(UTC)),
        "window": {"start": _rfc3339(start), "end": _rfc3339(end)},
        "accounts": accounts,
        "campaigns": [c.to_json() for c in campaigns],
    }

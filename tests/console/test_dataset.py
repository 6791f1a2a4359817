from __future__ import annotations

from datetime import date
from pathlib import Path

import orjson
import pytest

from distillguard.console.dataset import Dataset
from distillguard.errors import InputError, NotFound

from console.sample_dataset import (
    BENIGN_REQUESTS,
    HYDRA_REQUESTS,
    JA4_HYDRA,
    PROBE_REQUESTS,
    SamplePaths,
)


def test_load_counts_requests_and_rejects(dataset: Dataset) -> None:
    assert dataset.request_count == HYDRA_REQUESTS + PROBE_REQUESTS + BENIGN_REQUESTS
    assert dataset.rejects["malformed_json"] == 1
    assert dataset.rejects["bad_ip"] == 1


def test_rejects_are_written_beside(sample: SamplePaths, rejects_file: Path) -> None:
    Dataset.load(sample.findings, sample.requests, sample.accounts, rejects_file)
    lines = [orjson.loads(line) for line in rejects_file.read_bytes().splitlines()]
    assert sorted(line["reason"] for line in lines) == ["bad_ip", "malformed_json"]


def test_daily_series_per_campaign_and_overall(dataset: Dataset) -> None:
    hydra = dataset.daily("C-hydra")
    assert len(hydra) == 10 and all(n == 18 for _, n in hydra)
    assert hydra[0][0] == date(2026, 4, 1)
    probe = dict(dataset.daily("C-probe"))
    assert min(probe) == date(2026, 4, 5) and sum(probe.values()) == PROBE_REQUESTS
    overall = dict(dataset.daily(None))
    assert sum(overall.values()) == HYDRA_REQUESTS + PROBE_REQUESTS


def test_infrastructure_of_a_campaign(dataset: Dataset) -> None:
    prefixes = dataset.infrastructure("C-hydra", "prefix")
    assert {r.value for r in prefixes} == {"203.0.113.0/24", "198.51.100.0/24"}
    assert all(r.requests == 90 and r.accounts == 3 for r in prefixes)
    (ja4,) = dataset.infrastructure("C-hydra", "ja4")
    assert ja4.value == JA4_HYDRA and ja4.accounts == 6
    assert dataset.distinct_count("C-hydra", "ip") == 18
    assert dataset.distinct_count("C-probe", "prefix") == 1


def test_methods_follow_the_prompts(dataset: Dataset) -> None:
    total, counts = dataset.methods("C-hydra")
    assert total == HYDRA_REQUESTS
    assert counts["cot_elicitation"] == 120 and counts["rubric_grading"] == 60
    assert counts["logit_probing"] == 0
    _, probe = dataset.methods("C-probe")
    assert probe["logit_probing"] == PROBE_REQUESTS


def test_samples_come_from_distinct_accounts(dataset: Dataset) -> None:
    samples = dataset.samples("C-hydra")
    assert len(samples) == 6
    assert len({s.account_id for s in samples}) == 6
    assert any("step by step" in s.prompt for s in samples)


def test_accounts_of_a_campaign_are_paged(dataset: Dataset) -> None:
    first = dataset.accounts_of("C-hydra", limit=4)
    rest = dataset.accounts_of("C-hydra", limit=4, offset=4)
    assert len(first) == 4 and len(rest) == 2
    assert {a.account_id for a in first + rest} == {f"h{i}" for i in range(1, 7)}
    assert all(a.requests == 30 and a.ips == 3 for a in first)


def test_graph_links_only_shared_values(dataset: Dataset) -> None:
    edges = dataset.graph_edges("C-hydra")
    kinds = {(k, v) for _, k, v in edges}
    assert ("payment", "pf-shared-1") in kinds
    assert ("ja4", JA4_HYDRA) in kinds
    payers = {a for a, k, v in edges if k == "payment"}
    assert payers == {"h1", "h2", "h3", "h4"}  # pf-h5 and pf-h6 link nothing
    assert dataset.graph_accounts("C-hydra") == [f"h{i}" for i in range(1, 7)]
    assert dataset.graph_edges("C-nope") == [] and dataset.graph_accounts("C-nope") == []


def test_account_details(dataset: Dataset) -> None:
    record = dataset.account_record("h1")
    assert record is not None and record["program"] == "education"
    stats = dataset.account_stats("h1")
    assert stats is not None and stats["requests"] == 30 and stats["days"] == 10
    assert len(dataset.account_daily("p1")) == 5
    assert dataset.recent_requests("p1", 2)[0]["prompt"].startswith("Say the word")
    assert dataset.known_account("b2") and not dataset.known_account("zz")
    assert dataset.account_record("zz") is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("203.0.113.0/24", {"h1", "h2", "h3"}),
        ("198.51.100.41", {"h4"}),
        ("2001:db8:5::/48", {"p1", "p2"}),
        ("key-b1", {"b1"}),
        ("p", {"p1", "p2"}),
        ("nobody", set()),
    ],
)
def test_search(dataset: Dataset, query: str, expected: set[str]) -> None:
    assert {h.account_id for h in dataset.search(query)} == expected


def test_search_rejects_overlong_text(dataset: Dataset) -> None:
    with pytest.raises(InputError):
        dataset.search("x" * 300)


def test_unknown_campaign(dataset: Dataset) -> None:
    with pytest.raises(NotFound):
        dataset.campaign("nope")


def test_findings_only_dataset(sample: SamplePaths) -> None:
    data = Dataset.load(sample.findings)
    assert data.request_count == 0
    assert data.daily("C-hydra") == []
    assert data.known_account("h1")

"""The simulated distributions that make detection hard (and the scenario realistic)."""

from __future__ import annotations

import ipaddress
import itertools
import re
from collections import Counter, defaultdict
from functools import cache

import numpy as np

from distillguard.simulate import networks

from .conftest import Scenario

LIGHT = {
    "hobbyist",
    "coding_assistant",
    "mobile_user",
    "startup_signup",
    "education_signup",
    "university_lab",
}


def _per_active_day(scenario: Scenario) -> dict[str, list[int]]:
    per: Counter[tuple[str, str]] = Counter(
        (r["account_id"], r["ts"][:10]) for r in scenario.requests
    )
    out: dict[str, list[int]] = defaultdict(list)
    for (account, _day), n in per.items():
        out[account].append(n)
    return out


def test_campaign_members_send_like_light_benign_users(scenario: Scenario) -> None:
    days = _per_active_day(scenario)
    labels = scenario.label_of
    light = np.array([n for a, ns in days.items() if labels[a]["persona"] in LIGHT for n in ns])
    campaign = np.array([np.median(ns) for a, ns in days.items() if labels[a]["malicious"]])
    low, high = np.percentile(light, [5, 97])
    assert len(campaign) == scenario.manifest["counts"]["malicious_accounts"]
    assert low <= np.median(campaign) <= high
    assert np.mean((campaign >= low) & (campaign <= high)) >= 0.9


def test_campaign_volume_is_about_thirteen_per_account_day(scenario: Scenario) -> None:
    labels = scenario.label_of
    hydra = [x for x in scenario.labels if x["persona"] == "hydra_member"]
    created = {a["account_id"]: a["created_at"][:10] for a in scenario.accounts}
    rates = []
    for x in hydra:
        alive = (
            91
            if created[x["account_id"]] < "2026-04-01"
            else 91
            - (int(created[x["account_id"]][8:10]) + 30 * (int(created[x["account_id"]][5:7]) - 4))
        )
        rates.append(x["requests"] / max(alive, 1))
    assert 8 <= float(np.mean(rates)) <= 20
    assert all(labels[x["account_id"]]["campaign_id"] == "hydra-proxy-network" for x in hydra)


def test_enterprise_batch_outsends_every_campaign_account(scenario: Scenario) -> None:
    enterprise = [x["requests"] for x in scenario.labels if x["persona"] == "enterprise_batch"]
    campaign = [x["requests"] for x in scenario.labels if x["malicious"]]
    assert enterprise and min(enterprise) > max(campaign)


def _sharing(scenario: Scenario, persona: str) -> dict[str, set[str]]:
    labels = scenario.label_of
    users: dict[str, set[str]] = defaultdict(set)
    for r in scenario.requests:
        if labels[r["account_id"]]["persona"] == persona:
            users[r["client_ip"]].add(r["account_id"])
    return users


def test_university_nat_address_is_shared_by_many_benign_accounts(scenario: Scenario) -> None:
    users = _sharing(scenario, "university_lab")
    busiest = max(users.values(), key=len)
    assert len(busiest) >= 2
    assert not any(scenario.label_of[a]["malicious"] for a in busiest)
    network = [
        n
        for n in networks.of_kind("education")
        if any(ipaddress.ip_address(next(iter(users))) in ipaddress.ip_network(p) for p in n.v4)
    ]
    assert network, "NAT addresses lie in a university network"


def test_cgnat_addresses_are_shared_by_unrelated_mobile_users(scenario: Scenario) -> None:
    users = _sharing(scenario, "mobile_user")
    shared = [ip for ip, accounts in users.items() if len(accounts) >= 2]
    assert len(shared) >= 3
    orgs = {a["account_id"]: a["org_id"] for a in scenario.accounts}
    assert any(len({orgs[a] for a in users[ip]} - {None}) == 0 for ip in shared)  # no common org


@cache
def _network(ip: str) -> str | None:
    address = ipaddress.ip_address(ip)
    for net in networks.NETWORKS:
        prefixes = [*net.v4, *([net.v6] if net.v6 else [])]
        if any(address in ipaddress.ip_network(p) for p in prefixes):
            return net.name
    return None


def test_campaign_residential_exits_sit_in_benign_users_isps(scenario: Scenario) -> None:
    labels = scenario.label_of
    benign_nets: set[str | None] = set()
    hydra_nets: set[str | None] = set()
    for r in scenario.requests[::7]:
        label = labels[r["account_id"]]
        if label["persona"] == "hydra_member":
            hydra_nets.add(_network(r["client_ip"]))
        elif not label["malicious"]:
            benign_nets.add(_network(r["client_ip"]))
    residential = {n.name for n in networks.of_kind("residential")}
    assert len(hydra_nets & benign_nets & residential) >= 3


def test_sign_up_paths_are_shared_by_benign_and_campaign_accounts(scenario: Scenario) -> None:
    labels = scenario.label_of
    by_program: dict[str, set[bool]] = defaultdict(set)
    for a in scenario.accounts:
        by_program[a["program"]].add(labels[a["account_id"]]["malicious"])
    assert by_program["education"] == {True, False}
    assert by_program["startup"] == {True, False}


def test_account_ids_do_not_encode_the_persona(scenario: Scenario) -> None:
    pattern = re.compile(r"acct_[0-9a-z]{20}")
    assert all(pattern.fullmatch(x["account_id"]) for x in scenario.labels)
    ordered = [x["malicious"] for x in sorted(scenario.labels, key=lambda x: x["account_id"])]
    runs = sum(1 for a, b in itertools.pairwise(ordered) if a != b)
    assert runs >= 10  # benign and campaign ids interleave


def test_extraction_prompts_and_benign_chain_of_thought_both_exist(scenario: Scenario) -> None:
    labels = scenario.label_of
    cot_m = cot_b = 0
    for r in scenario.requests:
        text = r["messages"][-1]["content"].lower()
        if "step by step" in text:
            if labels[r["account_id"]]["malicious"]:
                cot_m += 1
            else:
                cot_b += 1
    assert cot_m > 100 and cot_b > 0


def test_hydra_pivots_to_the_new_model_within_a_day(scenario: Scenario) -> None:
    labels = scenario.label_of
    release = scenario.manifest["releases"][0]
    after = [
        r
        for r in scenario.requests
        if release["at"] <= r["ts"] < "2026-05-21"
        and labels[r["account_id"]]["persona"] == "hydra_member"
    ]
    share = sum(r["model"] == release["model"] for r in after) / len(after)
    benign = [
        r
        for r in scenario.requests
        if release["at"] <= r["ts"] < "2026-05-21" and not labels[r["account_id"]]["malicious"]
    ]
    benign_share = sum(r["model"] == release["model"] for r in benign) / len(benign)
    assert share > 0.3 and benign_share < share / 2

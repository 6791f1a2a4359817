from __future__ import annotations

import ipaddress

import pytest

from distillguard.closedloop.attacker import Attacker
from distillguard.simulate import networks

TEMPLATE = {"account_id": "acct_orig", "country": "KR", "program": "education"}
REFUSED = {"ts": "2026-04-03T10:00:00.000Z", "client_ip": "198.51.100.9", "account_id": "acct_orig"}


def _record() -> dict[str, object]:
    return {"account_id": "acct_orig", "api_key_id": "key_orig", "org_id": "org_1"}


def test_a_passive_attacker_keeps_its_accounts() -> None:
    attacker = Attacker(enabled=False, cost_per_account=5.0, seed=1)
    assert attacker.refused("acct_orig", REFUSED, "c1", TEMPLATE) is None
    record = _record()
    attacker.remap(record)
    assert record == _record()


def test_an_adaptive_attacker_moves_the_work_to_a_fresh_account() -> None:
    attacker = Attacker(enabled=True, cost_per_account=5.0, seed=1)
    attacker.original_accounts["c1"] = 10
    first = attacker.refused("acct_orig", REFUSED, "c1", TEMPLATE)
    assert first is not None
    account = first.account
    assert account["account_id"] != "acct_orig" and account["account_id"].startswith("acct_")
    assert account["created_at"] == REFUSED["ts"] and account["signup_ip"] == "198.51.100.9"
    assert (account["country"], account["program"]) == ("KR", "education")
    record = _record()
    attacker.remap(record)
    assert record == {
        "account_id": account["account_id"],
        "api_key_id": first.key_id,
        "org_id": None,
    }
    second = attacker.refused("acct_orig", REFUSED, "c1", TEMPLATE)
    assert second is not None and second.account["account_id"] != account["account_id"]
    assert attacker.accounts_used("c1") == 12 and attacker.spend("c1") == 60.0


def test_a_careful_operator_signs_replacements_up_from_fresh_home_addresses() -> None:
    attacker = Attacker(enabled=True, cost_per_account=5.0, seed=1, signup_from="fresh")
    bought = [attacker.refused("acct_orig", REFUSED, "c1", TEMPLATE) for _ in range(3)]
    addresses = [b.account["signup_ip"] for b in bought if b is not None]
    assert len(set(addresses)) == 3 and REFUSED["client_ip"] not in addresses
    korean_homes = [
        ipaddress.ip_network(prefix)
        for n in networks.of_kind("residential", "KR")
        for prefix in n.v4
    ]
    for address in addresses:
        assert any(ipaddress.ip_address(address) in net for net in korean_homes)


def test_an_unknown_sign_up_source_is_refused() -> None:
    with pytest.raises(ValueError, match="signup_from"):
        Attacker(enabled=True, cost_per_account=5.0, seed=1, signup_from="tor")


def test_an_operator_buying_aged_accounts_backdates_their_sign_up() -> None:
    attacker = Attacker(enabled=True, cost_per_account=5.0, seed=1, replacement_age=31 * 86400)
    bought = attacker.refused("acct_orig", REFUSED, "c1", TEMPLATE)
    assert bought is not None and bought.account["created_at"] == "2026-03-03T10:00:00.000Z"

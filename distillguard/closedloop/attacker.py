"""The adaptive attacker: a campaign operator who replaces every blocked account with a new one.

A real operator watches for refusals. When one of its accounts is suspended or challenged (a
403 it cannot clear), it signs up a fresh account, paying ``cost_per_account`` (a verified
phone number, a card, an aged e-mail address), and moves the blocked account's remaining work
to it: the same schedule, prompts and proxy network, under a new account id, API key and sign-up
trace. Replacements can be blocked and replaced in turn. With ``enabled`` false the attacker
only counts the accounts it started with.

Where the replacement signs up from is a knob (``signup_from``): ``proxy``, the exit address
of the refused request (the operator's tooling signs up through the fleet's proxies), or
``fresh``, a residential address in the account's country that the fleet has not used (an
operator who keeps sign-ups apart from harvesting). ``replacement_age`` (seconds) backdates each
replacement's sign-up: an operator who buys *aged* accounts, signed up long before and left
idle, as account markets sell them, rather than signing up new ones when it needs them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from distillguard.logs.validate import parse_timestamp
from distillguard.logs.writer import rfc3339_ms
from distillguard.simulate import networks
from distillguard.simulate.identities import ident

SIGNUP_FROM = ("proxy", "fresh")


@dataclass
class Replacement:
    """A fresh account bought to stand in for a blocked one."""

    account: dict[str, Any]  # dg.account.v1
    key_id: str
    campaign_id: str


@dataclass
class Attacker:
    """Tracks which identity each campaign account currently uses and what the fleet cost."""

    enabled: bool
    cost_per_account: float
    seed: int
    signup_from: str = "proxy"  # one of SIGNUP_FROM
    replacement_age: float = 0.0  # seconds between a replacement's sign-up and its first use
    original_accounts: Counter[str] = field(default_factory=Counter)  # campaign -> accounts
    bought: Counter[str] = field(default_factory=Counter)  # campaign -> replacements
    replacements: list[Replacement] = field(default_factory=list)
    _current: dict[str, tuple[str, str]] = field(default_factory=dict)  # original -> (acct, key)
    _numbers: int = 0
    _book: networks.AddressBook = field(default_factory=networks.AddressBook)

    def __post_init__(self) -> None:
        if self.signup_from not in SIGNUP_FROM:
            raise ValueError(f"signup_from must be one of {', '.join(SIGNUP_FROM)}")

    def remap(self, record: dict[str, Any]) -> None:
        """Rewrite ``record`` to the identity its account's operator uses now."""
        current = self._current.get(record["account_id"])
        if current is not None:
            record["account_id"], record["api_key_id"] = current
            record["org_id"] = None

    def refused(
        self,
        original_id: str,
        record: Mapping[str, Any],
        campaign_id: str,
        template: Mapping[str, Any],
    ) -> Replacement | None:
        """The operator saw a block on ``record``; buy a replacement if adaptive.

        ``template`` is the dg.account.v1 record of the account being replaced: the new one
        keeps its country and sign-up program and signs up from the refused request's proxy
        address or a fresh one (``signup_from``), with a new e-mail address and no payment
        instrument.
        """
        if not self.enabled:
            return None
        self._numbers += 1
        number = self._numbers
        account_id = ident("acct", self.seed ^ 0x5EED, number, 20)
        key_id = ident("key", self.seed ^ 0x5EED, number)
        handle = ident("u", self.seed ^ 0xE11A, number, 10).removeprefix("u_")
        domain = "proton.me" if number % 3 else "outlook.com"
        account = {
            "account_id": account_id,
            "org_id": None,
            "created_at": self._signed_up(record["ts"]),
            "email": f"{handle}@{domain}",
            "email_domain": domain,
            "signup_ip": (
                record["client_ip"]
                if self.signup_from == "proxy"
                else self._fresh_address(number, template.get("country"))
            ),
            "signup_user_agent": template.get("signup_user_agent"),
            "payment_fingerprint": None,
            "payment_country": None,
            "country": template.get("country"),
            "verification": "email",
            "program": template.get("program", "standard"),
            "tier": 1,
        }
        self._current[original_id] = (account_id, key_id)
        self.bought[campaign_id] += 1
        replacement = Replacement(account, key_id, campaign_id)
        self.replacements.append(replacement)
        return replacement

    def _signed_up(self, first_use: str) -> str:
        if not self.replacement_age:
            return first_use
        return rfc3339_ms(parse_timestamp(first_use, "ts") / 1000 - self.replacement_age)

    def _fresh_address(self, number: int, country: object) -> str:
        """A residential address in ``country`` (any country if it has none), drawn anew."""
        homes = networks.of_kind("residential", str(country)) or networks.of_kind("residential")
        rng = np.random.default_rng([self.seed, 0xF2E5, number])
        network = homes[int(rng.integers(len(homes)))]
        return self._book.text(int(self._book.v4(rng, network, 1)[0]))

    def accounts_used(self, campaign_id: str) -> int:
        return self.original_accounts[campaign_id] + self.bought[campaign_id]

    def spend(self, campaign_id: str) -> float:
        """What the campaign's accounts cost, the originals included."""
        return self.accounts_used(campaign_id) * self.cost_per_account

"""Accounts: who signed up, when, how, and the infrastructure each account reaches the API from.

:func:`build` turns a preset into :class:`Group` objects (one per persona or campaign) holding
per-account arrays that the traffic generator reads, plus the dg.account.v1 records and
dg.labels.v1 labels. All ids come from one shuffled numbering shared by every group, so nothing
in an id hints at its persona.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from distillguard.simulate import clients, identities, networks
from distillguard.simulate.campaigns import Campaign
from distillguard.simulate.networks import AddressBook, Network
from distillguard.simulate.personas import Persona
from distillguard.simulate.presets import Preset
from distillguard.simulate.streams import DAY_MS, Clock, rng

EPOCH_DAYS = 21  # home broadband leases renew about every three weeks
EPOCHS = 6


@dataclass
class Group:
    """The accounts of one persona or campaign and what the traffic generator needs about them."""

    name: str
    persona: Persona | None
    campaign: Campaign | None
    ids: list[str]
    orgs: list[str | None]
    keys: list[list[str]]
    created: np.ndarray  # ms offset from the scenario start
    tz: np.ndarray  # hours
    weight: np.ndarray  # per-account volume multiplier (mean 1)
    client: np.ndarray  # primary client index
    style: np.ndarray  # per-account random style number
    home: np.ndarray  # (accounts, EPOCHS) address codes (home, NAT, cloud egress, or DC address)
    epoch_shift: np.ndarray  # days: when each account's home lease renews
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.ids)

    @property
    def malicious(self) -> bool:
        return self.campaign is not None


def _weighted(r: np.random.Generator, table: dict[str, float], count: int) -> list[str]:
    names = sorted(table)
    w = np.array([table[n] for n in names], dtype=float)
    return [names[i] for i in r.choice(len(names), size=count, p=w / w.sum())]


class Builder:
    """Builds the population of one preset; see :func:`build`."""

    def __init__(self, preset: Preset, seed: int, clock: Clock) -> None:
        self.preset = preset
        self.seed = seed
        self.clock = clock
        self.book = AddressBook()
        self.r = rng(seed, "population")
        self.people = identities.Identities(rng(seed, "identities"))
        total = sum(p.accounts for p in preset.personas) + sum(c.accounts for c in preset.campaigns)
        order = rng(seed, "ids").permutation(total)
        self._ids = identities.account_ids(seed, total)
        self._order = order.tolist()
        self._next = 0
        self._numbers = 0
        self.cgnat: dict[str, np.ndarray] = {}
        self._carrier_users: dict[str, int] = {}
        self.homes: dict[
            str, list[int]
        ] = {}  # network -> benign home addresses (for proxy overlap)
        self.accounts: list[dict[str, Any]] = []
        self.labels: list[dict[str, Any]] = []

    def take_ids(self, count: int) -> list[str]:
        picked = [self._ids[i] for i in self._order[self._next : self._next + count]]
        self._next += count
        return picked

    def ident(self, prefix: str) -> str:
        self._numbers += 1
        return identities.ident(prefix, self.seed, self._numbers)

    # -- infrastructure -------------------------------------------------------------------
    def cgnat_pool(self, network: Network, users: int) -> np.ndarray:
        pool = self.cgnat.get(network.name)
        if pool is None:
            size = max(2, int(np.ceil(users / 50)))
            pool = self.book.draw(
                rng(self.seed, "cgnat", network.name), network, size, v6_share=0.2
            )
            self.cgnat[network.name] = pool
        return pool

    def home_network(self, country: str, kind: str) -> Network:
        found = networks.of_kind(kind, country) or networks.of_kind(kind, "US")
        return found[int(self.r.integers(len(found)))]

    # -- groups ---------------------------------------------------------------------------
    def benign(self, persona: Persona) -> Group:
        from distillguard.simulate import signup

        n = persona.accounts
        r = rng(self.seed, "persona", persona.name)
        countries = _weighted(r, persona.countries, n)
        tz = np.array(
            [
                networks.TIME_ZONES[c][int(r.integers(len(networks.TIME_ZONES[c])))]
                for c in countries
            ]
        )
        weight = r.lognormal(-(persona.sigma**2) / 2, persona.sigma, n)
        if persona.heavy:  # a heavy customer never drops below its persona's floor volume
            weight = np.maximum(weight, persona.min_per_day / persona.per_day)
        home = np.zeros((n, EPOCHS), dtype=np.int64)
        pools: list[np.ndarray] = []
        mobile_only = np.zeros(n, dtype=bool)
        cloud_mask = np.zeros(n, dtype=bool)
        campus: list[str | None] = [None] * n
        mode = persona.network
        universities = networks.of_kind("education")
        labs = rng(self.seed, "labs", persona.name).permutation(len(universities))[
            : max(1, min(len(universities), n // 40 + 1))
        ]
        for i, country in enumerate(countries):
            choice = mode
            if mode == "nat_or_cloud":
                choice = "nat" if r.random() < 0.5 else "cloud"
            elif mode == "cloud_or_home":
                choice = "cloud" if r.random() < 0.5 else "home"
            carrier = self.home_network(country, "mobile")
            pools.append(self.cgnat_pool(carrier, self._mobile_users(carrier)))
            if choice == "home":
                net = self.home_network(country, "residential")
                home[i] = self.book.draw(r, net, EPOCHS, v6_share=0.3)
                self.homes.setdefault(net.name, []).extend(home[i].tolist())
            elif choice == "mobile":
                home[i] = pools[-1][0]
                mobile_only[i] = True
            elif choice == "nat":
                uni = universities[int(labs[i % len(labs)])]
                home[i] = self.book.v4(rng(self.seed, "nat", uni.name), uni, 1)[0]
                countries[i] = uni.country
                campus[i] = uni.name
            else:
                cloud = networks.of_kind("hosting")[int(r.integers(3 if r.random() < 0.8 else 10))]
                egress = self.book.v4(r, cloud, int(r.integers(1, 5)))
                home[i] = egress[np.arange(EPOCHS) % len(egress)]
                cloud_mask[i] = True
            if choice == "nat":
                cloud_mask[i] = True
        group = Group(
            persona.name,
            persona,
            None,
            self.take_ids(n),
            [None] * n,
            [],
            np.zeros(n, dtype=np.int64),
            tz,
            weight,
            clients.pick(r, persona.clients, n),
            r.integers(0, 1 << 31, n),
            home,
            r.integers(0, EPOCH_DAYS, n),
        )
        group.extra["pools"] = pools
        group.extra["mobile_only"] = mobile_only
        group.extra["rotating"] = cloud_mask
        group.extra["campus"] = campus
        signup.benign(self, group, persona, countries, r)
        return group

    def _mobile_users(self, carrier: Network) -> int:
        known = self._carrier_users.get(carrier.name)
        if known is not None:
            return known
        users = 0
        for p in self.preset.personas:
            share = 1.0 if p.network == "mobile" else 0.1
            users += int(
                p.accounts
                * share
                * sum(w for c, w in p.countries.items() if c == carrier.country)
                / max(1e-9, sum(p.countries.values()))
            )
        self._carrier_users[carrier.name] = users
        return users

    def malicious(self, campaign: Campaign) -> Group:
        from distillguard.simulate import infrastructure, signup

        n = campaign.accounts
        r = rng(self.seed, "campaign", campaign.campaign_id)
        countries = _weighted(r, campaign.countries, n)
        tz = np.array([networks.TIME_ZONES[c][0] for c in countries])
        weight = r.lognormal(-0.045, 0.3, n)
        if campaign.client_builds > 0:
            fleet = clients.pick(r, campaign.clients, campaign.client_builds)
            client = fleet[r.integers(0, len(fleet), n)]
        else:
            client = clients.pick(r, campaign.clients, n)
        group = Group(
            campaign.campaign_id,
            None,
            campaign,
            self.take_ids(n),
            [None] * n,
            [],
            np.zeros(n, dtype=np.int64),
            tz,
            weight,
            client,
            r.integers(0, 1 << 31, n),
            np.zeros((n, EPOCHS), dtype=np.int64),
            r.integers(0, EPOCH_DAYS, n),
        )
        infrastructure.assign(self, group, campaign, countries, r)
        signup.campaign(self, group, campaign, countries, r)
        return group


def build(preset: Preset, seed: int, clock: Clock) -> tuple[list[Group], Builder]:
    """All groups of ``preset`` (benign first, then campaigns) and the builder with the records."""
    builder = Builder(preset, seed, clock)
    groups = [builder.benign(p) for p in preset.personas]
    groups += [builder.malicious(c) for c in preset.campaigns]
    for group in groups:
        for i, account_id in enumerate(group.ids):
            builder.labels.append(
                {
                    "account_id": account_id,
                    "malicious": group.malicious,
                    "campaign_id": group.campaign.campaign_id if group.campaign else None,
                    "persona": group.campaign.persona if group.campaign else group.name,
                }
            )
            del i
    return groups, builder


def day_of(created_ms: int) -> int:
    return created_ms // DAY_MS

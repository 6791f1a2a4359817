"""Where campaign traffic comes from: residential proxy exits, datacenter ranges, or both.

Residential exits are home connections in the same ISPs that benign customers use, and a few of
them are the very addresses of benign households (a proxy SDK on a home device), so an address
alone never proves anything. Datacenter members sit on a handful of /24 blocks of cheap hosts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from distillguard.simulate import networks
from distillguard.simulate.campaigns import Campaign

if TYPE_CHECKING:
    from distillguard.simulate.population import Builder, Group

CHEAP_HOSTS = (
    "Alibaba Cloud",
    "Tencent Cloud",
    "OVH",
    "Hetzner",
    "DigitalOcean",
    "Vultr",
    "Linode",
)
OVERLAP = 0.03


def residential_pool(
    builder: Builder, spec: Campaign, countries: dict[str, float], size: int, r: np.random.Generator
) -> np.ndarray:
    names = sorted(countries)
    w = np.array([countries[c] for c in names], dtype=float)
    per_country = r.multinomial(size, w / w.sum())
    parts = []
    for country, count in zip(names, per_country, strict=True):
        nets = networks.of_kind("residential", country) or networks.of_kind("residential", "US")
        split = r.multinomial(int(count), np.full(len(nets), 1 / len(nets)))
        for net, k in zip(nets, split, strict=True):
            if k == 0:
                continue
            codes = builder.book.draw(r, net, int(k), v6_share=spec.v6_share)
            homes = builder.homes.get(net.name)
            if homes:
                swap = np.flatnonzero(r.random(int(k)) < OVERLAP)
                codes[swap] = np.array(homes, dtype=np.int64)[r.integers(0, len(homes), len(swap))]
            parts.append(codes)
    return np.concatenate(parts) if parts else np.zeros(1, dtype=np.int64)


def datacenter_addresses(builder: Builder, size: int, r: np.random.Generator) -> np.ndarray:
    blocks = max(1, size // 25)
    hosts = [networks.BY_NAME[name] for name in CHEAP_HOSTS]
    bases = np.concatenate(
        [builder.book.v4(r, hosts[int(r.integers(len(hosts)))], 1) & ~255 for _ in range(blocks)]
    )
    return bases[r.integers(0, blocks, size)] + r.integers(2, 254, size)


def assign(
    builder: Builder, group: Group, spec: Campaign, countries: list[str], r: np.random.Generator
) -> None:
    """Fill ``group.home`` (sign-up and datacenter addresses) and the proxy pool of ``group``."""
    n = group.size
    residential = np.ones(n, dtype=bool)
    if spec.infra == "datacenter":
        residential[:] = False
    elif spec.infra == "mixed":
        residential = r.random(n) < 0.5
    pool = residential_pool(
        builder, spec, spec.countries, max(8, round(n * max(spec.pool_per_account, 1.0))), r
    )
    dc = datacenter_addresses(
        builder, max(3, round(n * spec.pool_per_account)) if spec.infra != "residential" else 3, r
    )
    for i in range(n):
        if residential[i]:
            group.home[i] = pool[r.integers(0, len(pool), group.home.shape[1])]
        else:
            own = dc[r.integers(0, len(dc), int(r.integers(1, 3)))]
            group.home[i] = own[np.arange(group.home.shape[1]) % len(own)]
    group.extra["residential"] = residential
    group.extra["pool"] = pool
    group.extra["sticky_ms"] = int(spec.sticky_minutes * 60_000)

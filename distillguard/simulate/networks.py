"""The simulated Internet: access networks, their address ranges and how addresses are drawn.

The prefixes and AS numbers are public allocations of the named operators as recalled when this
table was written (approximate: a real IP-to-ASN database may place an address elsewhere), so a
detector that enriches addresses with an offline ASN database sees sensible networks. The kind
(``residential``, ``mobile``, ``hosting``, ``education``) is what such a database or a
hosting-range list would say; it is written to the scenario manifest as the simulator's plan,
never as a label.

Addresses are ``int`` codes: an IPv4 address is its 32-bit value; an IPv6 address is a negative
index into :class:`AddressBook`'s table (IPv6 addresses are few and made once at set-up).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Network:
    """An access network of one operator."""

    name: str
    asn: int
    kind: str
    country: str
    v4: tuple[str, ...]
    v6: str | None = None


NETWORKS: tuple[Network, ...] = (
    # home broadband
    Network("Comcast", 7922, "residential", "US", ("73.0.0.0/8", "98.192.0.0/10"), "2601::/20"),
    Network("AT&T Internet", 7018, "residential", "US", ("99.0.0.0/10", "107.192.0.0/10")),
    Network("Verizon Fios", 701, "residential", "US", ("71.160.0.0/11", "108.0.0.0/14")),
    Network("Rogers", 812, "residential", "CA", ("99.224.0.0/11",)),
    Network(
        "Deutsche Telekom",
        3320,
        "residential",
        "DE",
        ("79.192.0.0/10", "84.128.0.0/10"),
        "2003::/19",
    ),
    Network("Orange France", 3215, "residential", "FR", ("90.0.0.0/9",), "2a01:cb00::/24"),
    Network("BT", 2856, "residential", "GB", ("86.128.0.0/10", "81.128.0.0/12")),
    Network("Telefonica Spain", 3352, "residential", "ES", ("83.32.0.0/11",)),
    Network("China Telecom", 4134, "residential", "CN", ("113.64.0.0/10", "183.0.0.0/10")),
    Network("China Unicom", 4837, "residential", "CN", ("123.112.0.0/12", "221.192.0.0/11")),
    Network("KT", 4766, "residential", "KR", ("175.192.0.0/10",)),
    Network("NTT OCN", 4713, "residential", "JP", ("153.128.0.0/9",)),
    Network("Vivo", 18881, "residential", "BR", ("177.0.0.0/13", "187.0.0.0/12")),
    Network("VNPT", 45899, "residential", "VN", ("14.160.0.0/11",)),
    Network("Telkom Indonesia", 7713, "residential", "ID", ("36.64.0.0/11",)),
    Network("ACT Fibernet", 24309, "residential", "IN", ("49.204.0.0/14",)),
    # mobile carriers (subscribers share carrier-grade NAT egress addresses)
    Network("T-Mobile US", 21928, "mobile", "US", ("172.32.0.0/11",), "2607:fb90::/32"),
    Network("Verizon Wireless", 6167, "mobile", "US", ("174.192.0.0/10",)),
    Network("Vodafone DE", 3209, "mobile", "DE", ("109.40.0.0/13",)),
    Network("Reliance Jio", 55836, "mobile", "IN", ("49.32.0.0/11",), "2409:4000::/22"),
    Network("China Mobile", 9808, "mobile", "CN", ("111.0.0.0/10",), "2409:8a00::/24"),
    Network("Telkomsel", 23693, "mobile", "ID", ("114.120.0.0/13",)),
    Network("Claro Brasil", 28573, "mobile", "BR", ("179.208.0.0/12",)),
    # clouds and hosting
    Network("Amazon AWS", 16509, "hosting", "US", ("3.0.0.0/9", "52.0.0.0/11", "18.128.0.0/9")),
    Network("Google Cloud", 396982, "hosting", "US", ("34.64.0.0/10", "35.184.0.0/13")),
    Network("Microsoft Azure", 8075, "hosting", "US", ("20.0.0.0/11", "40.64.0.0/10")),
    Network(
        "DigitalOcean", 14061, "hosting", "US", ("159.89.0.0/16", "167.99.0.0/16", "134.209.0.0/16")
    ),
    Network("OVH", 16276, "hosting", "FR", ("51.68.0.0/16", "54.36.0.0/14")),
    Network("Hetzner", 24940, "hosting", "DE", ("95.216.0.0/15", "65.108.0.0/15"), "2a01:4f8::/29"),
    Network("Alibaba Cloud", 45102, "hosting", "SG", ("47.74.0.0/15", "8.208.0.0/12")),
    Network("Tencent Cloud", 132203, "hosting", "SG", ("43.128.0.0/14",)),
    Network("Vultr", 20473, "hosting", "US", ("45.32.0.0/16", "149.28.0.0/16")),
    Network("Linode", 63949, "hosting", "US", ("172.104.0.0/15",)),
    # universities
    Network("UC Berkeley", 25, "education", "US", ("128.32.0.0/16",)),
    Network("Stanford University", 32, "education", "US", ("171.64.0.0/14",)),
    Network("ETH Zurich", 559, "education", "CH", ("129.132.0.0/16",)),
    Network("University of Cambridge", 786, "education", "GB", ("131.111.0.0/16",)),
    Network("Tsinghua University", 4538, "education", "CN", ("166.111.0.0/16",)),
    Network("Seoul National University", 9488, "education", "KR", ("147.46.0.0/16",)),
)

BY_NAME = {network.name: network for network in NETWORKS}

# UTC offsets (hours) of the countries above; several for the wide ones.
TIME_ZONES: dict[str, tuple[float, ...]] = {
    "US": (-8.0, -7.0, -6.0, -5.0, -5.0, -5.0),
    "CA": (-5.0, -8.0),
    "BR": (-3.0,),
    "DE": (2.0,),
    "FR": (2.0,),
    "ES": (2.0,),
    "CH": (2.0,),
    "GB": (1.0,),
    "CN": (8.0,),
    "SG": (8.0,),
    "KR": (9.0,),
    "JP": (9.0,),
    "VN": (7.0,),
    "ID": (7.0,),
    "IN": (5.5,),
}


def of_kind(kind: str, country: str | None = None) -> list[Network]:
    """Networks of one kind, optionally in one country (in table order: deterministic)."""
    return [n for n in NETWORKS if n.kind == kind and (country is None or n.country == country)]


class AddressBook:
    """Draws addresses inside networks and formats address codes as strings."""

    def __init__(self) -> None:
        self._v6: list[str] = []
        self._text: dict[int, str] = {}
        self._ranges: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def _v4_ranges(self, network: Network) -> tuple[np.ndarray, np.ndarray]:
        found = self._ranges.get(network.name)
        if found is None:
            nets = [ipaddress.IPv4Network(p) for p in network.v4]
            found = (
                np.array([int(n.network_address) for n in nets], dtype=np.int64),
                np.array([n.num_addresses for n in nets], dtype=np.int64),
            )
            self._ranges[network.name] = found
        return found

    def v4(self, rng: np.random.Generator, network: Network, count: int) -> np.ndarray:
        """``count`` IPv4 codes inside ``network`` (host part never .0 or .255)."""
        bases, sizes = self._v4_ranges(network)
        which = rng.choice(len(bases), size=count, p=sizes / sizes.sum())
        offsets = (rng.random(count) * sizes[which]).astype(np.int64)
        codes = bases[which] + offsets
        last = codes & 255
        fixed: np.ndarray = codes + np.where(last == 0, 1, 0) - np.where(last == 255, 1, 0)
        return fixed

    def v6(self, rng: np.random.Generator, network: Network, count: int) -> np.ndarray:
        """``count`` IPv6 codes inside ``network``'s IPv6 prefix (each a fresh /64)."""
        if network.v6 is None:
            return self.v4(rng, network, count)
        prefix = ipaddress.IPv6Network(network.v6)
        span = 64 - prefix.prefixlen
        base = int(prefix.network_address)
        nets = rng.integers(0, 1 << span, size=count, dtype=np.uint64).tolist()
        iids = rng.integers(1, 1 << 63, size=count, dtype=np.int64).tolist()
        codes = np.empty(count, dtype=np.int64)
        for i, (net, iid) in enumerate(zip(nets, iids, strict=True)):
            address = ipaddress.IPv6Address(base | (int(net) << 64) | int(iid))
            self._v6.append(str(address))
            codes[i] = -len(self._v6)
        return codes

    def draw(
        self, rng: np.random.Generator, network: Network, count: int, v6_share: float = 0.0
    ) -> np.ndarray:
        """Addresses in ``network``: IPv6 for about ``v6_share`` of them when it has a v6 prefix."""
        codes = self.v4(rng, network, count)
        if network.v6 is not None and v6_share > 0:
            pick = np.flatnonzero(rng.random(count) < v6_share)
            if len(pick):
                codes[pick] = self.v6(rng, network, len(pick))
        return codes

    def text(self, code: int) -> str:
        """The address string of a code (cached: addresses repeat)."""
        found = self._text.get(code)
        if found is not None:
            return found
        if code < 0:
            found = self._v6[-code - 1]
        else:
            found = f"{code >> 24}.{(code >> 16) & 255}.{(code >> 8) & 255}.{code & 255}"
        if len(self._text) > 400_000:
            self._text.clear()
        self._text[code] = found
        return found

    def slash24(self, code: int) -> str:
        return self.text(code & ~255) + "/24" if code >= 0 else self.text(code)


def manifest_table() -> list[dict[str, object]]:
    """The network plan as written to the manifest (what an offline ASN database would say)."""
    return [
        {
            "name": n.name,
            "asn": n.asn,
            "kind": n.kind,
            "country": n.country,
            "prefixes": [*n.v4, *([n.v6] if n.v6 else [])],
        }
        for n in NETWORKS
    ]

"""IP enrichment: network prefix, and optionally AS number, operator and network type.

Prefixes (/24 for IPv4, /48 for IPv6) need nothing. AS numbers come from an optional offline
database in the CSV format of the npm package ``@ip-location-db/asn``
(``ip_range_start,ip_range_end,autonomous_system_number,autonomous_system_organization``);
without one, AS fields are null and detection runs on the remaining signals. The network type
(``hosting``, ``vpn``, ``mobile``, ``education``, ``residential``) is inferred from the operator
name, as hosting-range lists do.

>>> prefix_of("203.0.113.77"), prefix_of("2001:db8:1:2::1")
('203.0.113.0/24', '2001:db8:1::/48')
"""

from __future__ import annotations

import bisect
import csv
import ipaddress
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from distillguard.errors import ConfigurationError

_HOSTING = (
    "amazon", "aws", "google", "microsoft", "azure", "digitalocean", "ovh", "hetzner", "vultr",
    "constant company", "choopa", "linode", "akamai", "alibaba", "tencent", "oracle", "cloud",
    "hosting",
    "datacenter", "data center", "server", "colo", "leaseweb", "contabo", "scaleway",
)  # fmt: skip
_VPN = ("vpn", "mullvad", "nordvpn", "proton", "expressvpn", "surfshark", "m247", "datacamp")
_MOBILE = (
    "mobile", "wireless", "cellular", "t-mobile", "vodafone", "jio", "telkomsel", "claro",
    "tim ", "airtel", "lte",
)  # fmt: skip
_EDUCATION = ("university", "universit", "college", "institute of technology", "eth ", "school")


def prefix_of(ip: str) -> str | None:
    """The /24 (IPv4) or /48 (IPv6) network of ``ip`` as CIDR text, or None if not an address."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if address.version == 4:
        return f"{ipaddress.IPv4Network((int(address) >> 8 << 8, 24))}"
    return f"{ipaddress.IPv6Network((int(address) >> 80 << 80, 48))}"


def network_type(organization: str | None) -> str | None:
    """Classify an AS operator name as hosting, vpn, mobile, education or residential."""
    if not organization:
        return None
    name = organization.lower()
    for kind, words in (
        ("vpn", _VPN),
        ("hosting", _HOSTING),
        ("mobile", _MOBILE),
        ("education", _EDUCATION),
    ):
        if any(word in name for word in words):
            return kind
    return "residential"


@dataclass(frozen=True, slots=True)
class NetworkInfo:
    """What the database says about one address."""

    asn: int | None
    organization: str | None
    kind: str | None


class AsnDatabase:
    """IP ranges to AS numbers, loaded from an ``@ip-location-db/asn`` style CSV file, or from
    a directory of them (the package's ``asn-ipv4.csv`` and ``asn-ipv6.csv``).

    IPv4 ranges are held in numpy arrays and looked up with ``searchsorted``; IPv6 ranges in
    sorted Python lists (``bisect``), since their 128-bit values do not fit numpy integers.
    """

    def __init__(self, path: Path) -> None:
        if path.is_dir():
            # The npm package ships asn-ipv4.csv and asn-ipv6.csv (plus *-num.csv twins).
            files = sorted(p for p in path.glob("*.csv") if not p.name.endswith("-num.csv"))
        elif path.is_file():
            files = [path]
        else:
            raise ConfigurationError(f"ASN database {path} does not exist")
        if not files:
            raise ConfigurationError(f"ASN database {path} holds no CSV files")
        v4: list[tuple[int, int, int, str]] = []
        v6: list[tuple[int, int, int, str]] = []
        for file in files:
            with file.open(newline="", encoding="utf-8", errors="replace") as handle:
                for row in csv.reader(handle):
                    if len(row) < 3 or row[0].startswith("ip_range"):
                        continue
                    try:
                        start = ipaddress.ip_address(row[0].strip())
                        end = ipaddress.ip_address(row[1].strip())
                        asn = int(row[2])
                    except ValueError:
                        continue
                    entry = (int(start), int(end), asn, row[3] if len(row) > 3 else "")
                    (v4 if start.version == 4 else v6).append(entry)
        v4.sort()
        v6.sort()
        self._v4_start = np.array([e[0] for e in v4], dtype=np.int64)
        self._v4_end = np.array([e[1] for e in v4], dtype=np.int64)
        self._v4_info = [NetworkInfo(e[2], e[3], network_type(e[3])) for e in v4]
        self._v6_start = [e[0] for e in v6]
        self._v6_end = [e[1] for e in v6]
        self._v6_info = [NetworkInfo(e[2], e[3], network_type(e[3])) for e in v6]

    def __len__(self) -> int:
        return len(self._v4_info) + len(self._v6_info)

    def lookup(self, ip: str) -> NetworkInfo | None:
        """The network of ``ip``, or None when no range holds it."""
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return None
        value = int(address)
        if address.version == 4:
            i = int(np.searchsorted(self._v4_start, value, side="right")) - 1
            if i >= 0 and value <= self._v4_end[i]:
                return self._v4_info[i]
            return None
        j = bisect.bisect_right(self._v6_start, value) - 1
        if j >= 0 and value <= self._v6_end[j]:
            return self._v6_info[j]
        return None


def load_asn_database(path: Path | None) -> AsnDatabase | None:
    """Load the database at ``path``, or return None when no path is configured."""
    return None if path is None else AsnDatabase(path)

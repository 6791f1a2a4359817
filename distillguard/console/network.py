"""Client addresses turned into searchable keys: the network prefix and a sortable hex form.

An IPv4 address is mapped into IPv6 (``::ffff:a.b.c.d``) and written as 32 hex digits, so every
CIDR block is a contiguous range of strings and "which accounts used 203.0.113.0/24" becomes a
``BETWEEN`` on an indexed text column.

>>> address_key("203.0.113.7")
('203.0.113.0/24', '00000000000000000000ffffcb007107')
>>> cidr_range("203.0.113.0/24")
('00000000000000000000ffffcb007100', '00000000000000000000ffffcb0071ff')
"""

from __future__ import annotations

import ipaddress
import socket

from distillguard.errors import InputError

IPV4_PREFIX = 24
IPV6_PREFIX = 48
_V4_MAPPED = 0xFFFF << 32


def _hex(value: int) -> str:
    return f"{value:032x}"


def address_key(address: str) -> tuple[str, str]:
    """Return ``(network prefix, 32-digit hex)`` of an address; ``("", "")`` if it is not one."""
    try:
        # the C parser is ~10x faster than ipaddress for the common IPv4 case
        value = int.from_bytes(socket.inet_pton(socket.AF_INET, address), "big")
    except (OSError, TypeError, ValueError):
        pass
    else:
        prefix = f"{value >> 24}.{(value >> 16) & 255}.{(value >> 8) & 255}.0/{IPV4_PREFIX}"
        return prefix, _hex(_V4_MAPPED | value)
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "", ""
    if isinstance(ip, ipaddress.IPv4Address):
        net = ipaddress.IPv4Network((int(ip) >> 8 << 8, IPV4_PREFIX))
        return str(net), _hex(_V4_MAPPED | int(ip))
    mapped = ip.ipv4_mapped
    if mapped is not None:
        return address_key(str(mapped))
    net6 = ipaddress.IPv6Network((int(ip) >> 80 << 80, IPV6_PREFIX))
    return str(net6), _hex(int(ip))


def cidr_range(text: str) -> tuple[str, str]:
    """Return the inclusive hex range covered by a CIDR block, or raise :class:`InputError`."""
    try:
        net = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise InputError(f"{text[:60]!r} is not an address or CIDR block") from None
    low, high = int(net.network_address), int(net.broadcast_address)
    if isinstance(net, ipaddress.IPv4Network):
        low, high = _V4_MAPPED | low, _V4_MAPPED | high
    return _hex(low), _hex(high)


def is_address(text: str) -> bool:
    """True if ``text`` is a single IPv4 or IPv6 address."""
    try:
        ipaddress.ip_address(text.strip())
    except ValueError:
        return False
    return True


def is_network(text: str) -> bool:
    """True if ``text`` is a CIDR block such as ``198.51.100.0/24`` or ``2001:db8::/48``."""
    if "/" not in text:
        return False
    try:
        ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return False
    return True

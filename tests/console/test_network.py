from __future__ import annotations

import pytest

from distillguard.console.network import address_key, cidr_range, is_address, is_network
from distillguard.errors import InputError


def test_ipv4_key_and_range_agree() -> None:
    prefix, key = address_key("203.0.113.7")
    assert prefix == "203.0.113.0/24"
    low, high = cidr_range(prefix)
    assert low <= key <= high
    assert not (low <= address_key("203.0.114.1")[1] <= high)


def test_ipv6_and_mapped() -> None:
    assert address_key("2001:db8:1:2::5")[0] == "2001:db8:1::/48"
    assert address_key("::ffff:1.2.3.4") == address_key("1.2.3.4")
    low, high = cidr_range("2001:db8:1::/48")
    assert low <= address_key("2001:db8:1:ffff::1")[1] <= high


def test_bad_input() -> None:
    assert address_key("nope") == ("", "")
    with pytest.raises(InputError):
        cidr_range("10.0.0.0/99")
    assert is_address("10.0.0.1") and not is_address("10.0.0.0/8")
    assert is_network("10.0.0.0/8") and not is_network("h1")

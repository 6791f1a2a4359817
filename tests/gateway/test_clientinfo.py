from __future__ import annotations

from distillguard.config import parse_networks
from distillguard.gateway.clientinfo import ClientResolver

TRUSTED = parse_networks("10.0.0.0/8,2001:db8::/32")


def test_untrusted_peer_headers_are_ignored() -> None:
    resolver = ClientResolver(TRUSTED)
    assert resolver.resolve("198.51.100.4", b"203.0.113.7", b"t13d_x") == ("198.51.100.4", None)
    assert ClientResolver().resolve("10.0.0.1", b"203.0.113.7", b"t13d_x") == ("10.0.0.1", None)


def test_rightmost_untrusted_hop_is_the_client() -> None:
    resolver = ClientResolver(TRUSTED)
    # a forged left part, the real client, then two trusted proxies
    chain = b"1.2.3.4, 203.0.113.7, 10.1.1.1"
    assert resolver.resolve("10.0.0.5", chain, b" t13d1516h2_a_b ") == (
        "203.0.113.7",
        "t13d1516h2_a_b",
    )


def test_all_trusted_chain_gives_the_leftmost() -> None:
    resolver = ClientResolver(TRUSTED)
    assert resolver.resolve("10.0.0.5", b"10.9.9.9, 10.1.1.1", None) == ("10.9.9.9", None)


def test_garbled_hop_stops_at_the_last_vouched_address() -> None:
    resolver = ClientResolver(TRUSTED)
    assert resolver.resolve("10.0.0.5", b"203.0.113.7, garbage", None) == ("10.0.0.5", None)
    assert resolver.resolve("10.0.0.5", b"garbage, 10.2.2.2", None) == ("10.2.2.2", None)


def test_ipv6_and_missing_peer() -> None:
    resolver = ClientResolver(TRUSTED)
    assert resolver.resolve("2001:db8::1", b"2001:db9::5", None) == ("2001:db9::5", None)
    assert resolver.resolve(None, None, None) == ("0.0.0.0", None)
    assert resolver.resolve("10.0.0.5", None, b"") == ("10.0.0.5", None)

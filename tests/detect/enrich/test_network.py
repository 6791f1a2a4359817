from __future__ import annotations

from pathlib import Path

import pytest

from distillguard.detect.enrich.network import (
    AsnDatabase,
    load_asn_database,
    network_type,
    prefix_of,
)
from distillguard.errors import ConfigurationError


def test_prefixes() -> None:
    assert prefix_of("203.0.113.77") == "203.0.113.0/24"
    assert prefix_of("2001:db8:1:2::1") == "2001:db8:1::/48"
    assert prefix_of("nonsense") is None


def test_network_types() -> None:
    assert network_type("AMAZON-02") == "hosting"
    assert network_type("T-Mobile USA, Inc.") == "mobile"
    assert network_type("Mullvad VPN AB") == "vpn"
    assert network_type("Comcast Cable Communications") == "residential"
    assert network_type(None) is None


def test_asn_database(tmp_path: Path) -> None:
    path = tmp_path / "asn.csv"
    path.write_text(
        "ip_range_start,ip_range_end,autonomous_system_number,autonomous_system_organization\n"
        "3.0.0.0,3.127.255.255,16509,AMAZON-02\n"
        "73.0.0.0,73.255.255.255,7922,COMCAST-7922\n"
        "2601::,2601:fff:ffff:ffff:ffff:ffff:ffff:ffff,7922,COMCAST-7922\n"
        "garbage,row\n"
    )
    db = AsnDatabase(path)
    assert len(db) == 3
    hit = db.lookup("3.1.2.3")
    assert hit is not None and hit.asn == 16509 and hit.kind == "hosting"
    assert db.lookup("73.9.9.9").kind == "residential"  # type: ignore[union-attr]
    assert db.lookup("2601:1::5").asn == 7922  # type: ignore[union-attr]
    assert db.lookup("8.8.8.8") is None
    assert load_asn_database(None) is None
    folder = tmp_path / "package"
    folder.mkdir()
    (folder / "asn-ipv4.csv").write_text("3.0.0.0,3.127.255.255,16509,AMAZON-02\n")
    (folder / "asn-ipv4-num.csv").write_text("50331648,58720255,16509,AMAZON-02\n")
    (folder / "asn-ipv6.csv").write_text("2601::,2601::ffff,7922,COMCAST-7922\n")
    assert len(AsnDatabase(folder)) == 2
    with pytest.raises(ConfigurationError):
        load_asn_database(tmp_path / "missing.csv")

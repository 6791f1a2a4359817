from __future__ import annotations

from pathlib import Path

import pytest

from distillguard.errors import InputError
from distillguard.intel.watchlist import WatchEntry, Watchlist


def watchlist() -> Watchlist:
    return Watchlist(
        [
            WatchEntry("prefix", "203.0.113.0/24", "indicator--a", "C-1", 90),
            WatchEntry("ip", "203.0.113.7", "indicator--b", "C-2", 60),
            WatchEntry("prefix", "2001:db8:5::/48", "indicator--c", "C-3"),
            WatchEntry("ja4", "t13d_x", "indicator--d"),
            WatchEntry("template", "00000000000000ff", "indicator--e"),
        ]
    )


def test_match_ip_prefers_the_most_specific() -> None:
    wl = watchlist()
    hit = wl.match_ip("203.0.113.7")
    assert hit is not None and hit.indicator_id == "indicator--b"
    other = wl.match_ip("203.0.113.8")
    assert other is not None and other.indicator_id == "indicator--a"
    assert wl.match_ip("::ffff:203.0.113.9") == other
    v6 = wl.match_ip("2001:db8:5:1::9")
    assert v6 is not None and v6.campaign == "C-3"
    assert wl.match_ip("198.51.100.1") is None and wl.match_ip("garbage") is None


def test_match_ja4_and_template() -> None:
    wl = watchlist()
    assert wl.match_ja4("t13d_x") is not None and wl.match_ja4(None) is None
    assert wl.match_template(255) is not None
    assert wl.match_template("00000000000000FF") is not None
    assert wl.match_template(0) is None and wl.match_template(254) is None
    assert wl.match_template("not-hex") is None


def test_save_and_load(tmp_path: Path) -> None:
    path = tmp_path / "wl.json"
    watchlist().save(path)
    again = Watchlist.load(path)
    assert len(again) == 5 and again.match_ip("203.0.113.1") is not None
    path.write_text('{"schema": "other"}')
    with pytest.raises(InputError):
        Watchlist.load(path)


def test_bad_entries() -> None:
    with pytest.raises(InputError):
        Watchlist([WatchEntry("prefix", "nope", "indicator--x")])
    with pytest.raises(InputError):
        Watchlist([WatchEntry("email", "a@b", "indicator--x")])

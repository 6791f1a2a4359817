"""Numbers, dates and lists written the way a person writes them in a letter.

>>> about(24_613), interactions(28_790_000)
('about 25,000', '28.8 million')
>>> from datetime import date
>>> period(date(2026, 4, 2), date(2026, 6, 28))
'between April and June 2026'
>>> listing(["coding", "reasoning", "planning"])
'coding, reasoning and planning'
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _round_significant(n: int, digits: int) -> int:
    if n == 0:
        return 0
    scale = 10 ** max(len(str(abs(n))) - digits, 0)
    return int(round(n / scale) * scale)


def about(n: int) -> str:
    """A count rounded for a reader: exact below 100, else "about" with two significant digits."""
    if n < 100:
        return f"{n:,}"
    if n >= 1_000_000:
        return f"about {interactions(n)}"
    rounded = _round_significant(n, 2)
    return f"{rounded:,}" if rounded == n else f"about {rounded:,}"


def interactions(n: int) -> str:
    """A large count as "28.8 million" or "1.2 billion"; exact with separators below a million."""
    if n >= 1_000_000_000:
        return f"{n / 1_000_000_000:.1f} billion".replace(".0 ", " ")
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f} million".replace(".0 ", " ")
    return f"{n:,}"


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """``noun`` or its plural for ``n``."""
    return noun if n == 1 else (nouns or noun + "s")


def _day(d: date) -> str:
    return f"{d.day} {MONTHS[d.month - 1]}"


def period(first: date | datetime, last: date | datetime) -> str:
    """A date range in words: days for spans of a month or less, months beyond."""
    a = first.date() if isinstance(first, datetime) else first
    b = last.date() if isinstance(last, datetime) else last
    if a == b:
        return f"on {_day(a)} {a.year}"
    if (b - a).days <= 31:
        if (a.year, a.month) == (b.year, b.month):
            return f"between {a.day} and {_day(b)} {b.year}"
        if a.year == b.year:
            return f"between {_day(a)} and {_day(b)} {b.year}"
        return f"between {_day(a)} {a.year} and {_day(b)} {b.year}"
    if (a.year, a.month) == (b.year, b.month):
        return f"in {MONTHS[a.month - 1]} {a.year}"
    if a.year == b.year:
        return f"between {MONTHS[a.month - 1]} and {MONTHS[b.month - 1]} {b.year}"
    return f"between {MONTHS[a.month - 1]} {a.year} and {MONTHS[b.month - 1]} {b.year}"


def listing(items: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]


CAPABILITY_WORDS = {"agentic": "agentic tool use", "math": "mathematics", "chat": "conversation"}
VAGUE_CAPABILITIES = frozenset({"other", "unknown", "misc"})


def capability_word(name: str) -> str:
    """A capability name as words: ``agentic`` -> ``agentic tool use``, ``_`` -> space."""
    return CAPABILITY_WORDS.get(name, name.replace("_", " "))


def capability_words(shares: dict[str, float], *, floor: float = 0.1, most: int = 3) -> list[str]:
    """The main capabilities by share (at least ``floor``, at most ``most``), in words.

    Catch-all classes such as ``other`` say nothing to a reader and are left out.
    """
    ranked = [
        (name, share)
        for name, share in sorted(shares.items(), key=lambda kv: (-kv[1], kv[0]))
        if name not in VAGUE_CAPABILITIES
    ]
    chosen = [name for name, share in ranked if share >= floor][:most] or [n for n, _ in ranked[:1]]
    return [capability_word(name) for name in chosen]


def percent(share: float) -> str:
    """A share as a percentage for prose: "62%", "<1%" for small non-zero shares."""
    if 0 < share < 0.005:
        return "<1%"
    return f"{share:.0%}"

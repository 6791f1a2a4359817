"""Sign-up identities: names, e-mail addresses (personal, work, university, disposable,
sequential), payment fingerprints and the random-looking identifiers of accounts, orgs and keys.

Identifiers never encode a persona: every account id is a hash of the scenario seed and a
running number drawn in one shuffled order for benign and campaign accounts alike.
"""

from __future__ import annotations

import numpy as np

from distillguard.simulate.streams import token

FIRST = [
    "james",
    "mary",
    "john",
    "patricia",
    "robert",
    "jennifer",
    "michael",
    "linda",
    "david",
    "elizabeth",
    "william",
    "barbara",
    "richard",
    "susan",
    "joseph",
    "jessica",
    "thomas",
    "sarah",
    "chris",
    "karen",
    "daniel",
    "lisa",
    "matthew",
    "nancy",
    "anthony",
    "sandra",
    "mark",
    "ashley",
    "paul",
    "emily",
    "steven",
    "donna",
    "andrew",
    "michelle",
    "kevin",
    "carol",
    "brian",
    "amanda",
    "george",
    "melissa",
    "wei",
    "jing",
    "li",
    "ming",
    "hao",
    "xin",
    "yu",
    "jun",
    "lei",
    "fang",
    "min",
    "jie",
    "tao",
    "hui",
    "yan",
    "ying",
    "chen",
    "lin",
    "minjun",
    "seoyeon",
    "jiho",
    "haeun",
    "hiroshi",
    "yuki",
    "haruto",
    "sakura",
    "aarav",
    "priya",
    "rohan",
    "ananya",
    "arjun",
    "diya",
    "lukas",
    "lena",
    "jonas",
    "mia",
    "felix",
    "emma",
    "leon",
    "hannah",
    "lucas",
    "chloe",
    "hugo",
    "ines",
    "pablo",
    "lucia",
    "mateo",
    "sofia",
    "joao",
    "ana",
    "pedro",
    "beatriz",
    "minh",
    "linh",
    "anh",
    "nguyen",
    "budi",
    "siti",
    "oliver",
    "amelia",
    "noah",
    "isla",
]
LAST = [
    "smith",
    "johnson",
    "williams",
    "brown",
    "jones",
    "garcia",
    "miller",
    "davis",
    "rodriguez",
    "martinez",
    "hernandez",
    "lopez",
    "wilson",
    "anderson",
    "thomas",
    "taylor",
    "moore",
    "jackson",
    "martin",
    "lee",
    "thompson",
    "white",
    "harris",
    "clark",
    "lewis",
    "wang",
    "li",
    "zhang",
    "liu",
    "chen",
    "yang",
    "huang",
    "zhao",
    "wu",
    "zhou",
    "xu",
    "sun",
    "ma",
    "zhu",
    "hu",
    "guo",
    "he",
    "lin",
    "kim",
    "park",
    "choi",
    "jung",
    "kang",
    "tanaka",
    "suzuki",
    "sato",
    "watanabe",
    "ito",
    "sharma",
    "patel",
    "singh",
    "gupta",
    "kumar",
    "muller",
    "schmidt",
    "schneider",
    "fischer",
    "weber",
    "dubois",
    "martin",
    "bernard",
    "petit",
    "silva",
    "santos",
    "oliveira",
    "souza",
    "pereira",
    "tran",
    "pham",
    "hoang",
    "wijaya",
    "santoso",
    "murphy",
    "kelly",
    "walsh",
    "novak",
    "horvat",
]
PERSONAL_DOMAINS: dict[str, tuple[tuple[str, float], ...]] = {
    "default": (
        ("gmail.com", 0.55),
        ("outlook.com", 0.14),
        ("yahoo.com", 0.09),
        ("icloud.com", 0.1),
        ("hotmail.com", 0.06),
        ("proton.me", 0.06),
    ),
    "CN": (("qq.com", 0.45), ("163.com", 0.3), ("gmail.com", 0.15), ("outlook.com", 0.1)),
    "KR": (("naver.com", 0.55), ("gmail.com", 0.35), ("daum.net", 0.1)),
    "JP": (("gmail.com", 0.5), ("yahoo.co.jp", 0.35), ("icloud.com", 0.15)),
    "DE": (("gmail.com", 0.4), ("gmx.de", 0.3), ("web.de", 0.2), ("outlook.com", 0.1)),
    "FR": (("gmail.com", 0.5), ("orange.fr", 0.25), ("free.fr", 0.15), ("outlook.com", 0.1)),
}
UNIVERSITY_DOMAINS = {
    "UC Berkeley": "berkeley.edu",
    "Stanford University": "stanford.edu",
    "ETH Zurich": "ethz.ch",
    "University of Cambridge": "cam.ac.uk",
    "Tsinghua University": "mails.tsinghua.edu.cn",
    "Seoul National University": "snu.ac.kr",
}
# A built-in sample of widely known throw-away mail services; ``disposable-email-domains``
# (PyPI, CC0) replaces it when installed.
DISPOSABLE = [
    "mailinator.com",
    "guerrillamail.com",
    "sharklasers.com",
    "10minutemail.com",
    "yopmail.com",
    "temp-mail.org",
    "tempmail.dev",
    "dropmail.me",
    "mailto.plus",
    "tmpmail.org",
    "trashmail.com",
    "getnada.com",
    "maildrop.cc",
    "mohmal.com",
    "emailondeck.com",
    "burnermail.io",
    "spamgourmet.com",
    "fakeinbox.com",
    "throwawaymail.com",
    "mintemail.com",
    "tempr.email",
    "moakt.com",
    "inboxkitten.com",
]
_COMPANY_A = [
    "acme",
    "blue",
    "north",
    "bright",
    "quant",
    "data",
    "deep",
    "clear",
    "next",
    "open",
    "swift",
    "terra",
    "nova",
    "prime",
    "vector",
]
_COMPANY_B = [
    "labs",
    "works",
    "systems",
    "analytics",
    "robotics",
    "logic",
    "cloud",
    "ai",
    "health",
    "bank",
    "media",
    "retail",
]


def disposable_domains() -> list[str]:
    """Disposable mail domains: from ``disposable-email-domains`` if installed, else built in."""
    try:
        from disposable_email_domains import blocklist
    except ImportError:
        return list(DISPOSABLE)
    domains = sorted(blocklist)
    return domains if domains else list(DISPOSABLE)


def disposable_source() -> str:
    """Where the disposable-domain list comes from (recorded in the manifest)."""
    return (
        "disposable-email-domains (PyPI, MIT)"
        if disposable_domains() != list(DISPOSABLE)
        else "built-in list"
    )


class Identities:
    """Draws names and addresses from one generator (deterministic given the generator)."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.disposable = disposable_domains()

    def _choice(self, items: list[str] | tuple[str, ...]) -> str:
        return items[int(self.rng.integers(len(items)))]

    def handle(self) -> str:
        first, last = self._choice(FIRST), self._choice(LAST)
        style = int(self.rng.integers(6))
        if style == 0:
            return f"{first}.{last}"
        if style == 1:
            return f"{first}{last}{int(self.rng.integers(1, 99))}"
        if style == 2:
            return f"{first[0]}{last}"
        if style == 3:
            return f"{first}_{last[:3]}{int(self.rng.integers(1970, 2008))}"
        if style == 4:
            return f"{last}.{first}"
        return f"{first}{int(self.rng.integers(100, 9999))}"

    def personal(self, country: str) -> str:
        domains = PERSONAL_DOMAINS.get(country, PERSONAL_DOMAINS["default"])
        names = [d for d, _ in domains]
        weights = np.array([w for _, w in domains])
        domain = names[int(self.rng.choice(len(names), p=weights / weights.sum()))]
        return f"{self.handle()}@{domain}"

    def company(self) -> str:
        tld = self._choice(("com", "io", "ai", "dev", "co"))
        return f"{self._choice(_COMPANY_A)}{self._choice(_COMPANY_B)}.{tld}"

    def work(self, domain: str) -> str:
        first, last = self._choice(FIRST), self._choice(LAST)
        return (
            f"{first}.{last}@{domain}" if self.rng.random() < 0.7 else f"{first[0]}{last}@{domain}"
        )

    def university(self, network_name: str) -> str:
        domain = UNIVERSITY_DOMAINS.get(network_name, "university.edu")
        return f"{self.handle()}@{domain}"

    def throwaway(self) -> str:
        letters = "abcdefghijklmnopqrstuvwxyz0123456789"
        size = int(self.rng.integers(7, 13))
        name = "".join(letters[int(i)] for i in self.rng.integers(0, len(letters), size))
        return f"{name}@{self._choice(self.disposable)}"

    def sequential(self, base: str, number: int, domain: str) -> str:
        return f"{base}{number:04d}@{domain}"

    def sequence_base(self) -> str:
        first = self._choice(FIRST)
        return self._choice(
            (
                f"{first}.dev",
                f"{first}_ai",
                f"{first}{self._choice(LAST)[:2]}",
                "aitest",
                "user.api",
            )
        )


def account_ids(seed: int, count: int) -> list[str]:
    """``count`` distinct random-looking account ids (``acct_`` + 20 base32 characters)."""
    return [f"acct_{token(seed * 1_000_003 + i, 20)}" for i in range(count)]


def ident(prefix: str, seed: int, number: int, length: int = 16) -> str:
    """A random-looking identifier such as ``org_...``, ``key_...`` or ``pm_...``."""
    return f"{prefix}_{token((seed << 20) ^ (number * 2654435761) ^ hash_prefix(prefix), length)}"


def hash_prefix(prefix: str) -> int:
    value = 0
    for ch in prefix:
        value = (value * 131 + ord(ch)) & 0xFFFFFFFFFFFF
    return value << 8

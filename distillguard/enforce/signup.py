"""Sign-up risk: how likely a new dg.account.v1 record is part of a fraudulent account farm.

The reported distillation campaigns came in through thousands of fresh accounts, many of them on
education, research and start-up programs. :func:`score_signup` looks at one account record
against the recent sign-ups and returns a score in [0, 1] with the reasons, in the same
``{signal, weight, detail}`` shape as dg.findings.v1:

- ``disposable_email_domain``: a throw-away mailbox (a small built-in list, extended by the
  optional ``disposable-email-domains`` package, MIT licence, when it is installed:
  ``pip install distillguard[signup]``);
- ``free_email_domain``: a free webmail domain (weak on its own);
- ``email_alias_reuse``: the same mailbox as a recent account once dots and ``+tags`` are removed;
- ``sequential_email_local``: a local part that is a stem plus a number shared with recent
  sign-ups (``ml.team07``, ``ml.team08``, …);
- ``signup_burst_ip`` / ``signup_burst_prefix``: many sign-ups from one address or /24 (IPv4) or
  /48 (IPv6) within the window;
- ``payment_reuse``: a payment instrument already used by other accounts;
- ``program_path_abuse``: an education, research or start-up application from a disposable or
  free address, or education without an academic domain;
- ``country_mismatch``: declared country differs from the payment country.

Weights combine as a noisy-or: ``score = 1 − Π(1 − weight)``.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from distillguard.enforce.actions import parse_time
from distillguard.errors import InputError

FREE_DOMAINS = frozenset(
    [
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "yahoo.com",
        "ymail.com",
        "aol.com",
        "icloud.com",
        "me.com",
        "proton.me",
        "protonmail.com",
        "gmx.com",
        "gmx.de",
        "mail.com",
        "yandex.ru",
        "yandex.com",
        "mail.ru",
        "qq.com",
        "163.com",
        "126.com",
        "sina.com",
        "foxmail.com",
        "naver.com",
        "zoho.com",
        "tutanota.com",
    ]
)
DISPOSABLE_DOMAINS = frozenset(
    [
        "mailinator.com",
        "guerrillamail.com",
        "guerrillamail.net",
        "sharklasers.com",
        "grr.la",
        "10minutemail.com",
        "temp-mail.org",
        "temp-mail.io",
        "tempmail.com",
        "tempmail.net",
        "yopmail.com",
        "yopmail.net",
        "trashmail.com",
        "trashmail.de",
        "getnada.com",
        "nada.email",
        "dispostable.com",
        "maildrop.cc",
        "throwawaymail.com",
        "fakeinbox.com",
        "mailnesia.com",
        "mintemail.com",
        "emailondeck.com",
        "mohmal.com",
        "tempr.email",
        "discard.email",
        "spamgourmet.com",
        "mailcatch.com",
        "moakt.com",
        "burnermail.io",
        "mail.tm",
        "tmpmail.org",
        "minuteinbox.com",
        "mytemp.email",
        "spam4.me",
        "wegwerfmail.de",
        "einrot.com",
    ]
)
SPONSORED_PROGRAMS = frozenset({"education", "research", "startup"})
_ACADEMIC = re.compile(r"(^|\.)(edu|ac)(\.[a-z]{2})?$")
_NUMBERED = re.compile(r"^(.*?)(\d+)$")
_GMAIL = frozenset({"gmail.com", "googlemail.com"})


@lru_cache(maxsize=1)
def disposable_domains() -> frozenset[str]:
    """The built-in list, plus the ``disposable-email-domains`` package when installed."""
    try:
        from disposable_email_domains import blocklist
    except ImportError:
        return DISPOSABLE_DOMAINS
    return DISPOSABLE_DOMAINS | frozenset(blocklist)


def _in(domain: str, domains: frozenset[str]) -> bool:
    parts = domain.split(".")
    return any(".".join(parts[i:]) in domains for i in range(len(parts) - 1))


@dataclass(frozen=True, slots=True)
class SignupRules:
    """Thresholds and weights of the sign-up signals."""

    window: timedelta = timedelta(hours=24)
    ip_burst: int = 3  # other sign-ups from the same address within the window
    prefix_burst: int = 5  # … from the same /24 or /48
    sequence_run: int = 2  # other recent local parts with the same stem and domain
    weights: Mapping[str, float] = field(
        default_factory=lambda: {
            "disposable_email_domain": 0.45,
            "free_email_domain": 0.05,
            "email_alias_reuse": 0.5,
            "sequential_email_local": 0.35,
            "signup_burst_ip": 0.4,
            "signup_burst_prefix": 0.25,
            "payment_reuse": 0.45,
            "program_path_abuse": 0.3,
            "country_mismatch": 0.1,
        }
    )


@dataclass(frozen=True, slots=True)
class SignupRisk:
    account_id: str
    score: float
    reasons: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class _Facts:
    account_id: str
    created_at: datetime
    domain: str | None
    mailbox: str | None  # normalised address, when the full address is known
    stem: tuple[str, str] | None  # (stem, domain) of a numbered local part
    ip: str | None
    prefix: str | None
    payment: str | None
    program: str
    country: str | None
    payment_country: str | None


def _facts(record: Mapping[str, Any]) -> _Facts:
    account_id = record.get("account_id")
    if not isinstance(account_id, str) or not account_id:
        raise InputError("account record: account_id missing")
    email = record.get("email")
    domain = record.get("email_domain")
    mailbox = stem = None
    if isinstance(email, str) and "@" in email:
        local, _, domain = email.lower().rpartition("@")
        base = local.split("+", 1)[0]
        if domain in _GMAIL:
            base = base.replace(".", "")
        mailbox = f"{base}@{'gmail.com' if domain in _GMAIL else domain}"
        numbered = _NUMBERED.match(base)
        if numbered:
            stem = (re.sub(r"[._-]", "", numbered.group(1)) or "#", domain)
    ip = record.get("signup_ip")
    prefix = None
    if isinstance(ip, str):
        try:
            address = ipaddress.ip_address(ip)
            length = 24 if address.version == 4 else 48
            prefix = str(ipaddress.ip_network(f"{address}/{length}", strict=False))
        except ValueError:
            ip = None
    return _Facts(
        account_id=account_id,
        created_at=parse_time(record.get("created_at"), f"{account_id}.created_at"),
        domain=domain.lower() if isinstance(domain, str) else None,
        mailbox=mailbox,
        stem=stem,
        ip=ip if isinstance(ip, str) else None,
        prefix=prefix,
        payment=record.get("payment_fingerprint") or None,
        program=str(record.get("program", "standard")),
        country=record.get("country"),
        payment_country=record.get("payment_country"),
    )


class SignupContext:
    """Counts over a set of sign-ups, so each new record is scored in constant time."""

    def __init__(self) -> None:
        self.by_ip: Counter[str] = Counter()
        self.by_prefix: Counter[str] = Counter()
        self.by_payment: Counter[str] = Counter()
        self.by_mailbox: Counter[str] = Counter()
        self.by_stem: defaultdict[tuple[str, str], set[str]] = defaultdict(set)

    def add(self, f: _Facts, sign: int = 1) -> None:
        for counter, key in (
            (self.by_ip, f.ip),
            (self.by_prefix, f.prefix),
            (self.by_payment, f.payment),
            (self.by_mailbox, f.mailbox),
        ):
            if key is not None:
                counter[key] += sign
        if f.stem is not None:
            if sign > 0:
                self.by_stem[f.stem].add(f.account_id)
            else:
                self.by_stem[f.stem].discard(f.account_id)


def _count(counter: Counter[str], key: str | None) -> int:
    return 0 if key is None else counter[key]


def score_signup(
    record: Mapping[str, Any],
    recent: Iterable[Mapping[str, Any]] = (),
    *,
    rules: SignupRules | None = None,
) -> SignupRisk:
    """Score one account record against recent sign-ups.

    Recent records outside ``rules.window`` of this one, unreadable ones and the record itself
    are left out. Raises InputError when ``record`` itself has no account id or sign-up time.
    """
    rules = rules or SignupRules()
    f = _facts(record)
    context = SignupContext()
    for other in recent:
        try:
            g = _facts(other)
        except InputError:
            continue
        if g.account_id != f.account_id and abs(g.created_at - f.created_at) <= rules.window:
            context.add(g)
    return _score(f, context, rules)


def _score(f: _Facts, context: SignupContext, rules: SignupRules) -> SignupRisk:
    w = rules.weights
    reasons: list[dict[str, Any]] = []

    def add(signal: str, detail: str, scale: float = 1.0) -> None:
        reasons.append({"signal": signal, "weight": round(w[signal] * scale, 4), "detail": detail})

    disposable = f.domain is not None and _in(f.domain, disposable_domains())
    free = f.domain is not None and _in(f.domain, FREE_DOMAINS)
    if disposable:
        add("disposable_email_domain", f"{f.domain} is a disposable mail service")
    elif free:
        add("free_email_domain", f"{f.domain} is a free webmail domain")
    if _count(context.by_mailbox, f.mailbox) > 0:
        add("email_alias_reuse", f"{f.mailbox} already signed up (dots and +tags ignored)")
    if f.stem is not None:
        others = context.by_stem.get(f.stem, set()) - {f.account_id}
        if len(others) >= rules.sequence_run:
            add(
                "sequential_email_local",
                f"{len(others)} recent sign-ups share the numbered stem {f.stem[0]!r}@{f.stem[1]}",
            )
    hours = rules.window.total_seconds() / 3600
    same_ip = _count(context.by_ip, f.ip)
    if same_ip >= rules.ip_burst:
        add("signup_burst_ip", f"{same_ip} other sign-ups from {f.ip} within {hours:g} h")
    same_prefix = _count(context.by_prefix, f.prefix)
    if same_prefix >= rules.prefix_burst:
        add(
            "signup_burst_prefix",
            f"{same_prefix} other sign-ups from {f.prefix} within {hours:g} h",
        )
    reused = _count(context.by_payment, f.payment)
    if reused:
        add(
            "payment_reuse",
            f"payment instrument used by {reused} other recent accounts",
            1.0 if reused >= 2 else 0.6,
        )
    if f.program in SPONSORED_PROGRAMS:
        if disposable or free:
            add("program_path_abuse", f"{f.program} application from a {f.domain} address")
        elif f.program == "education" and f.domain is not None and not _ACADEMIC.search(f.domain):
            add("program_path_abuse", f"education application from non-academic {f.domain}")
    if f.country and f.payment_country and f.country != f.payment_country:
        add("country_mismatch", f"declared {f.country}, payment from {f.payment_country}")
    survive = 1.0
    for reason in reasons:
        survive *= 1.0 - min(max(reason["weight"], 0.0), 1.0)
    return SignupRisk(f.account_id, round(1.0 - survive, 4), reasons)


def score_signups(
    records: Iterable[Mapping[str, Any]], *, rules: SignupRules | None = None
) -> tuple[list[SignupRisk], list[tuple[str, str]]]:
    """Score records in sign-up order, each against the ones before it within the window.

    Returns the scores and the records set aside (account id, reason).
    """
    rules = rules or SignupRules()
    parsed: list[tuple[_Facts, Mapping[str, Any]]] = []
    rejected: list[tuple[str, str]] = []
    for record in records:
        try:
            parsed.append((_facts(record), record))
        except InputError as exc:
            rejected.append((str(record.get("account_id")), str(exc)))
    parsed.sort(key=lambda pair: pair[0].created_at)
    context = SignupContext()
    start = 0
    scores = []
    for facts, _record in parsed:
        while facts.created_at - parsed[start][0].created_at > rules.window:
            context.add(parsed[start][0], -1)  # slide the window
            start += 1
        scores.append(_score(facts, context, rules))
        context.add(facts)
    return scores, rejected

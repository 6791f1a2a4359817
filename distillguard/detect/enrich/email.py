"""E-mail domain classification: disposable, free-mail, or an organisation's own domain.

The built-in free-mail list covers the best-known providers. Disposable domains come from the
PyPI package ``disposable-email-domains`` (MIT licence; the optional extra ``detect``) when it
is installed, plus a few well-known ones built in.

>>> classify_domain("gmail.com"), classify_domain("mailinator.com"), classify_domain("acme.io")
('free', 'disposable', 'custom')
"""

from __future__ import annotations

import re
from functools import cache

FREE_MAIL = frozenset(
    [
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.co.uk",
        "yahoo.co.jp",
        "ymail.com",
        "outlook.com",
        "hotmail.com",
        "hotmail.co.uk",
        "live.com",
        "msn.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "gmx.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "mail.com",
        "protonmail.com",
        "proton.me",
        "pm.me",
        "yandex.com",
        "yandex.ru",
        "mail.ru",
        "qq.com",
        "163.com",
        "126.com",
        "yeah.net",
        "sina.com",
        "sohu.com",
        "aliyun.com",
        "naver.com",
        "daum.net",
        "hanmail.net",
        "zoho.com",
        "tutanota.com",
        "fastmail.com",
        "orange.fr",
        "free.fr",
        "laposte.net",
        "libero.it",
        "t-online.de",
        "rediffmail.com",
    ]
)
_BUILTIN_DISPOSABLE = frozenset(
    [
        "mailinator.com",
        "guerrillamail.com",
        "10minutemail.com",
        "temp-mail.org",
        "tempmail.com",
        "trashmail.com",
        "yopmail.com",
        "sharklasers.com",
        "getnada.com",
        "dispostable.com",
        "maildrop.cc",
        "throwawaymail.com",
        "fakeinbox.com",
        "mintemail.com",
        "mohmal.com",
        "emailondeck.com",
    ]
)
_DIGITS = re.compile(r"\d+")


@cache
def _disposable() -> frozenset[str]:
    try:
        from disposable_email_domains import blocklist
    except ImportError:
        return _BUILTIN_DISPOSABLE
    return _BUILTIN_DISPOSABLE | frozenset(blocklist)


def classify_domain(domain: str | None) -> str | None:
    """``disposable``, ``free``, ``custom``, or None when the domain is unknown."""
    if not domain:
        return None
    domain = domain.strip().lower()
    if domain in _disposable():
        return "disposable"
    if domain in FREE_MAIL:
        return "free"
    return "custom"


def domain_of(email: str | None, email_domain: str | None = None) -> str | None:
    """The domain of an account's address (``email_domain`` when the address is withheld)."""
    if email and "@" in email:
        return email.rsplit("@", 1)[1].strip().lower() or None
    return email_domain.strip().lower() if email_domain else None


def local_pattern(email: str | None) -> str | None:
    """The shape of an address's local part with digit runs masked (``john.smith#@``).

    Accounts made by one script in a burst often differ only in a counter; the pattern plus
    the domain is then shared, while people's own addresses rarely collide.
    """
    if not email or "@" not in email:
        return None
    local, domain = email.rsplit("@", 1)
    return f"{_DIGITS.sub('#', local.lower())}@{domain.lower()}"

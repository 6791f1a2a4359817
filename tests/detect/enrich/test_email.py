from __future__ import annotations

from distillguard.detect.enrich.email import classify_domain, domain_of, local_pattern


def test_domain_kinds() -> None:
    assert classify_domain("Gmail.com") == "free"
    assert classify_domain("mailinator.com") == "disposable"
    assert classify_domain("acme-corp.io") == "custom"
    assert classify_domain(None) is None


def test_domain_and_pattern() -> None:
    assert domain_of("Bob@Example.COM") == "example.com"
    assert domain_of(None, "Withheld.org") == "withheld.org"
    assert local_pattern("user0042@x.io") == local_pattern("user7@x.io") == "user#@x.io"
    assert local_pattern("not-an-address") is None

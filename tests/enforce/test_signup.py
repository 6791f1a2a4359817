from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from enforce_factories import NOW

from distillguard.enforce import signup
from distillguard.enforce.signup import SignupRules, score_signup, score_signups
from distillguard.errors import InputError


def record(account_id: str, minutes: float = 0, **fields: Any) -> dict[str, Any]:
    base = {
        "account_id": account_id,
        "created_at": (NOW + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z"),
        "verification": "email",
        "program": "standard",
    }
    return base | fields


def signals(risk: signup.SignupRisk) -> set[str]:
    return {r["signal"] for r in risk.reasons}


def test_ordinary_company_signup_scores_zero() -> None:
    risk = score_signup(record("a", email="dana@acme-robotics.com", signup_ip="192.0.2.1"))
    assert risk.score == 0 and risk.reasons == []


def test_disposable_and_free_domains() -> None:
    assert signals(score_signup(record("a", email="x@mailinator.com"))) == {
        "disposable_email_domain"
    }
    assert signals(score_signup(record("a", email_domain="sub.yopmail.com"))) == {
        "disposable_email_domain"
    }
    free = score_signup(record("a", email="x@gmail.com"))
    assert signals(free) == {"free_email_domain"} and free.score == pytest.approx(0.05)


def test_optional_package_extends_the_builtin_list() -> None:
    pytest.importorskip("disposable_email_domains")
    assert len(signup.disposable_domains()) > len(signup.DISPOSABLE_DOMAINS)


def test_sequential_local_parts_and_aliases() -> None:
    recent = [record(f"r{i}", -i, email=f"ml.team{i:02d}@outlook.com") for i in range(1, 4)]
    risk = score_signup(record("new", email="ml.team04@outlook.com"), recent)
    assert "sequential_email_local" in signals(risk)
    alias = score_signup(
        record("b", email="j.o.h.n+x@gmail.com"), [record("c", -5, email="john@gmail.com")]
    )
    assert "email_alias_reuse" in signals(alias)


def test_bursts_payment_reuse_and_window() -> None:
    recent = [
        record(f"r{i}", -10 * i, signup_ip=f"198.51.100.{i % 2 + 1}", payment_fingerprint="card9")
        for i in range(1, 7)
    ]
    risk = score_signup(
        record("new", signup_ip="198.51.100.1", payment_fingerprint="card9"), recent
    )
    assert {"signup_burst_ip", "signup_burst_prefix", "payment_reuse"} <= signals(risk)
    assert 0.7 < risk.score < 1
    later = score_signup(
        record("new", 60 * 48, signup_ip="198.51.100.1", payment_fingerprint="card9"), recent
    )
    assert later.score == 0  # the sign-ups two days earlier are outside the 24 h window


def test_ipv6_bursts_use_slash_48() -> None:
    recent = [record(f"r{i}", -i, signup_ip=f"2001:db8:7:{i:x}::1") for i in range(6)]
    risk = score_signup(record("new", signup_ip="2001:db8:7:ffff::9"), recent)
    assert "signup_burst_prefix" in signals(risk)


def test_program_path_abuse() -> None:
    edu = score_signup(record("a", email="prof@tsinghua.edu.cn", program="education"))
    assert edu.score == 0
    uk = score_signup(record("a", email="x@cs.ox.ac.uk", program="education"))
    assert uk.score == 0
    fake = score_signup(record("a", email="lab@deep-research.ai", program="education"))
    assert signals(fake) == {"program_path_abuse"}
    startup = score_signup(record("a", email="ceo@mailinator.com", program="startup"))
    assert signals(startup) == {"disposable_email_domain", "program_path_abuse"}


def test_score_signups_slides_over_a_farm() -> None:
    farm = [
        record(
            f"f{i}", i, email=f"agent{i}@outlook.com", signup_ip="203.0.113.5", program="research"
        )
        for i in range(10)
    ]
    honest = [record("h1", 3, email="ana@uni-wien.at", signup_ip="192.0.2.10")]
    scores, rejected = score_signups(farm + honest + [{"account_id": "bad"}])
    by_id = {s.account_id: s for s in scores}
    assert rejected and rejected[0][0] == "bad"
    assert by_id["h1"].score == 0
    assert by_id["f9"].score > 0.8 and by_id["f0"].score < by_id["f9"].score
    assert {"signup_burst_ip", "sequential_email_local"} <= signals(by_id["f9"])


def test_rules_are_configurable_and_bad_record_is_input_error() -> None:
    rules = SignupRules(ip_burst=1)
    risk = score_signup(
        record("a", signup_ip="192.0.2.1"), [record("b", signup_ip="192.0.2.1")], rules=rules
    )
    assert "signup_burst_ip" in signals(risk)
    with pytest.raises(InputError):
        score_signup({"account_id": "x", "created_at": "yesterday"})

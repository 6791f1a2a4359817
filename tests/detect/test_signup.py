"""Sign-up traces: bursts, and sponsored-program bursts from many networks (``program_peers``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import pytest

from distillguard.detect.signup import compute_signup
from distillguard.logs.arrow import account_table

NOON = datetime(2026, 4, 20, 12, 0, tzinfo=UTC)


def _account(
    account_id: str, minutes: float, ip: str | None, program: str = "education", **extra: Any
) -> dict[str, Any]:
    created = NOON + timedelta(minutes=minutes)
    record: dict[str, Any] = {
        "account_id": account_id,
        "created_at": created.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "email": f"{account_id}@example.edu",
        "email_domain": "example.edu",
        "signup_ip": ip,
        "verification": "email",
        "program": program,
        "tier": 1,
    }
    record.update(extra)
    return record


def _signup(records: list[dict[str, Any]]) -> dict[str, tuple[int, float, int]]:
    db = duckdb.connect()
    db.execute("SET TimeZone = 'UTC'")
    db.register("incoming", account_table(records))
    db.execute("CREATE TABLE accounts AS SELECT * FROM incoming")
    compute_signup(db)
    rows = db.execute(
        "SELECT account_id, program_peers, program_ratio, burst_peers FROM account_signup"
    ).fetchall()
    return {str(a): (int(p), float(r), int(b)) for a, p, r, b in rows}


@pytest.fixture(scope="module")
def signup() -> dict[str, tuple[int, float, int]]:
    # a class of 10 behind one campus address, an hour before a farm of 10 education sign-ups,
    # each from its own /24, plus bystanders in the farm's hour
    cohort = [_account(f"class{i}", i * 3, "198.51.100.7") for i in range(10)]
    farm = [_account(f"farm{i}", 180 + i * 4, f"203.0.{i}.9") for i in range(10)]
    bystanders = [
        _account("standard", 185, "192.0.2.1", program="standard"),
        _account("no_address", 186, None),
        _account("same_net", 187, "203.0.0.77"),  # the farm's first /24, on its own
    ]
    late = [_account("late", 60 * 24, "192.0.2.50")]
    return _signup(cohort + farm + bystanders + late)


def test_a_cohort_behind_one_address_has_no_program_peers(
    signup: dict[str, tuple[int, float, int]],
) -> None:
    for i in range(10):
        peers, ratio, burst = signup[f"class{i}"]
        assert peers == 0 and ratio == 0.0
        assert burst >= 9  # still a sign-up burst: that is context, not fraud


def test_a_farm_from_many_networks_counts_its_burst(
    signup: dict[str, tuple[int, float, int]],
) -> None:
    # each farm member sees the other nine from other /24s; "same_net" shares farm0's /24,
    # so it counts for the others but not for farm0; the account without an address and the
    # standard-program sign-up count for nobody
    assert signup["farm0"][0] == 9
    for i in range(1, 10):
        assert signup[f"farm{i}"][0] == 10
    assert signup["same_net"][0] == 9
    assert all(signup[f"farm{i}"][1] > 0 for i in range(10))


def test_accounts_off_sponsored_programs_or_without_an_address_score_nothing(
    signup: dict[str, tuple[int, float, int]],
) -> None:
    assert signup["standard"][:2] == (0, 0.0)
    assert signup["no_address"][:2] == (0, 0.0)
    assert signup["late"][:2] == (0, 0.0)

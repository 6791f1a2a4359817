from __future__ import annotations

import itertools

import pytest

from distillguard.controlplane.principal import RULES, SCOPES
from distillguard.controlplane.records import verification_rank
from distillguard.controlplane.tiers import default_tiers, tier_from_dict, validate_limits
from distillguard.errors import InputError


def test_default_table_covers_every_scope_and_rule() -> None:
    table = default_tiers()
    assert [spec.tier for spec in table] == [0, 1, 2, 3, 4, 5]
    for spec in table:
        assert set(spec.limits) == set(SCOPES)
        for scope in SCOPES:
            assert set(spec.limits[scope]) == set(RULES)


def test_default_table_grows_with_tier_and_verification() -> None:
    table = default_tiers()
    for lower, higher in itertools.pairwise(table):
        for rule in RULES:
            assert higher.limits["account"][rule] >= lower.limits["account"][rule]
        assert verification_rank(higher.required_verification) >= verification_rank(
            lower.required_verification
        )


def test_ip_scopes_are_looser_than_the_account() -> None:
    for spec in default_tiers():
        for rule in RULES:
            account = spec.limits["account"][rule]
            assert spec.limits["ip"][rule] > account
            assert spec.limits["ip24"][rule] > spec.limits["ip"][rule]
            assert spec.limits["ip48"][rule] > spec.limits["ip24"][rule]


def test_to_limits_is_what_the_gateway_reads() -> None:
    free = default_tiers()[0].to_limits()
    assert free.get("account", "rpm") == 5
    assert free.get("account", "no-such-rule") is None


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"planet": {"rpm": 1}}, "unknown scope 'planet'"),
        ({"account": {"rph": 1}}, "unknown rule 'rph'"),
        ({"account": {"rpm": -1}}, "non-negative integer"),
        ({"account": {"rpm": True}}, "non-negative integer"),
        ({"account": {"rpm": 1.5}}, "non-negative integer"),
        ({"account": 5}, "table of rules"),
        ([], "table of scopes"),
    ],
)
def test_validate_limits_names_the_problem(raw: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        validate_limits(raw)


def test_tier_from_dict_checks_every_field() -> None:
    spec = tier_from_dict(
        {"tier": 9, "name": " gold ", "required_verification": "id", "limits": {"key": {"rpm": 3}}}
    )
    assert (spec.tier, spec.name, spec.required_verification) == (9, "gold", "id")
    with pytest.raises(InputError, match="unknown field"):
        tier_from_dict({"tier": 1, "name": "x", "rpm": 3})
    with pytest.raises(InputError, match="name"):
        tier_from_dict({"tier": 1, "name": ""})
    with pytest.raises(InputError, match="required_verification"):
        tier_from_dict({"tier": 1, "name": "x", "required_verification": "dna"})
    with pytest.raises(InputError, match="tier"):
        tier_from_dict({"tier": "one", "name": "x"})

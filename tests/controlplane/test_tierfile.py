from __future__ import annotations

import tomllib

import pytest

from distillguard.controlplane.tierfile import dump_tiers, format_from_path, load_tiers
from distillguard.controlplane.tiers import TierSpec, default_tiers
from distillguard.errors import InputError


@pytest.mark.parametrize("fmt", ["json", "toml"])
def test_round_trip_keeps_the_table(fmt: str) -> None:
    table = [
        *default_tiers(),
        TierSpec(7, 'quote " and \\ back', {"key": {"rpm": 1}}, "org", "line\nbreak"),
    ]
    assert load_tiers(dump_tiers(table, fmt), fmt) == table


def test_toml_is_readable_as_documented() -> None:
    document = tomllib.loads(dump_tiers(default_tiers(), "toml"))
    assert document["tiers"][0]["name"] == "free"
    assert document["tiers"][2]["limits"]["account"]["rpm"] == 1000


@pytest.mark.parametrize(
    ("text", "fmt", "message"),
    [
        ("{", "json", "not valid JSON"),
        ("[[tiers]\n", "toml", "not valid TOML"),
        ('{"tiers": 3}', "json", "list named 'tiers'"),
        ('{"tiers": []}', "json", "no tiers"),
        (
            '{"tiers": [{"tier": 1, "name": "a"}, {"tier": 1, "name": "b"}]}',
            "json",
            "more than once",
        ),
        (
            '{"tiers": [{"tier": 1, "name": "a", "limits": {"account": {"rpm": "x"}}}]}',
            "json",
            r"tiers\[0\].limits.account.rpm",
        ),
        ("{}", "yaml", "unknown tier file format"),
    ],
)
def test_bad_files_say_what_is_wrong(text: str, fmt: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        load_tiers(text, fmt)


def test_format_from_path() -> None:
    assert format_from_path("tiers.TOML") == "toml"
    assert format_from_path("/x/tiers.json") == "json"
    with pytest.raises(InputError, match="--format"):
        format_from_path("tiers.txt")

"""Reading and writing a whole tier table as JSON or TOML.

Both formats hold the same document::

    {"tiers": [{"tier": 0, "name": "free", "required_verification": "none",
                "description": "…", "limits": {"account": {"rpm": 5, …}, …}}, …]}

In TOML that is an array of tables::

    [[tiers]]
    tier = 0
    name = "free"
    required_verification = "none"

    [tiers.limits.account]
    rpm = 5
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable

from distillguard.controlplane.principal import RULES, SCOPES
from distillguard.controlplane.tiers import TierSpec, tier_from_dict
from distillguard.errors import InputError

FORMATS: tuple[str, ...] = ("json", "toml")


def dump_tiers(tiers: Iterable[TierSpec], fmt: str) -> str:
    """Serialise a tier table as ``json`` or ``toml`` text."""
    ordered = sorted(tiers, key=lambda spec: spec.tier)
    if fmt == "json":
        return json.dumps({"tiers": [spec.to_dict() for spec in ordered]}, indent=2) + "\n"
    if fmt == "toml":
        return _dump_toml(ordered)
    raise InputError(f"unknown tier file format {fmt!r}; use one of {', '.join(FORMATS)}")


def load_tiers(text: str, fmt: str) -> list[TierSpec]:
    """Parse and validate a tier table; raises :class:`InputError` saying what is wrong."""
    if fmt == "json":
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"tier file is not valid JSON: {exc}") from exc
    elif fmt == "toml":
        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"tier file is not valid TOML: {exc}") from exc
    else:
        raise InputError(f"unknown tier file format {fmt!r}; use one of {', '.join(FORMATS)}")
    if not isinstance(document, dict) or not isinstance(document.get("tiers"), list):
        raise InputError("tier file must hold a list named 'tiers'")
    specs = [tier_from_dict(raw, where=f"tiers[{i}]") for i, raw in enumerate(document["tiers"])]
    numbers = [spec.tier for spec in specs]
    duplicates = sorted({n for n in numbers if numbers.count(n) > 1})
    if duplicates:
        raise InputError(f"tier file defines tier(s) {duplicates} more than once")
    if not specs:
        raise InputError("tier file holds no tiers")
    return specs


def format_from_path(path: str) -> str:
    """``json`` or ``toml`` from a file name's suffix."""
    lowered = path.lower()
    for fmt in FORMATS:
        if lowered.endswith("." + fmt):
            return fmt
    raise InputError(
        f"cannot tell the format of {path!r}: name it *.json or *.toml, or pass --format"
    )


def _toml_string(text: str) -> str:
    # JSON string escapes are a subset of TOML basic-string escapes.
    return json.dumps(text, ensure_ascii=False)


def _dump_toml(tiers: list[TierSpec]) -> str:
    lines: list[str] = []
    for spec in tiers:
        lines += [
            "[[tiers]]",
            f"tier = {spec.tier}",
            f"name = {_toml_string(spec.name)}",
            f"required_verification = {_toml_string(spec.required_verification)}",
            f"description = {_toml_string(spec.description)}",
            "",
        ]
        for scope in SCOPES:
            rules = spec.limits.get(scope)
            if rules is None:
                continue
            lines.append(f"[tiers.limits.{scope}]")
            lines += [f"{rule} = {rules[rule]}" for rule in RULES if rule in rules]
            lines.append("")
    return "\n".join(lines)

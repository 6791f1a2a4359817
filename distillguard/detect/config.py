"""Detection settings: the packaged ``defaults.toml`` merged with an optional user file."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from distillguard.errors import ConfigurationError


@dataclass(frozen=True, slots=True)
class Signal:
    """An own signal's weight and the values at which it starts and saturates."""

    weight: float
    floor: float
    full: float

    def strength(self, value: float | None) -> float:
        """0 at or below ``floor``, 1 at or above ``full``, linear in between."""
        if value is None or value <= self.floor:
            return 0.0
        if value >= self.full or self.full <= self.floor:
            return 1.0
        return (value - self.floor) / (self.full - self.floor)


@dataclass(frozen=True, slots=True)
class KeyKind:
    """One kind of linking evidence."""

    weight: float
    max_df: int
    window_minutes: int


@dataclass(frozen=True)
class DetectConfig:
    """Everything ``distillguard detect`` can be tuned with."""

    raw: dict[str, Any]

    @property
    def threshold(self) -> float:
        return float(self.raw["scoring"]["threshold"])

    def signal(self, name: str) -> Signal:
        spec = self.raw["signals"][name]
        return Signal(float(spec["weight"]), float(spec["floor"]), float(spec["full"]))

    @property
    def signals(self) -> list[str]:
        return list(self.raw["signals"])

    @property
    def linking(self) -> dict[str, Any]:
        return dict(self.raw["linking"])

    def key_kinds(self) -> dict[str, KeyKind]:
        kinds = self.raw["linking"]["keys"]
        return {
            name: KeyKind(float(k["weight"]), int(k["max_df"]), int(k["window_minutes"]))
            for name, k in kinds.items()
        }


def _merge(base: dict[str, Any], override: dict[str, Any], where: str) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if key not in base:
            raise ConfigurationError(f"unknown setting {where}{key} in detection config")
        if isinstance(base[key], dict):
            if not isinstance(value, dict):
                raise ConfigurationError(f"setting {where}{key} must be a table")
            merged[key] = _merge(base[key], value, f"{where}{key}.")
        else:
            merged[key] = value
    return merged


def load_config(path: Path | None = None) -> DetectConfig:
    """Load the packaged defaults, overridden by the TOML file at ``path`` if given."""
    text = resources.files("distillguard.detect").joinpath("defaults.toml").read_text("utf-8")
    raw = tomllib.loads(text)
    if path is not None:
        try:
            override = tomllib.loads(path.read_text("utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigurationError(f"cannot read detection config {path}: {exc}") from exc
        raw = _merge(raw, override, "")
    return DetectConfig(raw)

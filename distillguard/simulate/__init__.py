"""Labelled traffic: personas and extraction campaigns that generate dg.* scenarios.

Public entry points::

    from distillguard.simulate import generate, preset_names
    manifest = generate("seed", scale=0.001, seed=7, out="scenario/", fmt="jsonl.zst")
"""

from __future__ import annotations

from distillguard.simulate.presets import names as preset_names
from distillguard.simulate.scenario import generate

__all__ = ["generate", "preset_names"]

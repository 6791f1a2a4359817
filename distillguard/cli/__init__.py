"""The ``distillguard`` command: one module per command group, wired in ``main``."""

from __future__ import annotations

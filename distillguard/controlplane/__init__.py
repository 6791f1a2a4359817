"""Organizations, accounts, API keys, usage tiers and verification (the control plane)."""

from __future__ import annotations

"""Request-log, account and label files in the dg.* formats: writers and readers."""

from __future__ import annotations

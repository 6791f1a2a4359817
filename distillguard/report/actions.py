"""Actions taken, read from an audit log for a report.

Two audit formats are understood: the console's own audit file
(:class:`~distillguard.console.actions.AuditFile`, lines with ``action``) and the enforcement
audit log of :mod:`distillguard.enforce.audit` (hash-chained lines with ``op`` and ``subject``),
which also holds actions taken by policy, the admin API or other tools.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from distillguard.console.actions import ActionEntry, AuditFile
from distillguard.errors import InputError


def _is_enforcement_log(path: Path) -> bool:
    with path.open("rb") as stream:
        for line in stream:
            if not line.strip():
                continue
            try:
                first = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            return isinstance(first, dict) and "op" in first and "subject" in first
    return False


def read_actions(path: Path) -> list[ActionEntry]:
    """Every account action in the audit log at ``path``, oldest first."""
    if not path.is_file():
        raise InputError(f"{path}: no such audit log")
    if _is_enforcement_log(path):
        from distillguard.console.sinks import entry_from_audit
        from distillguard.enforce.audit import JsonlAuditLog

        entries = (entry_from_audit(raw) for raw in JsonlAuditLog(path).entries())
        return [e for e in entries if e is not None]
    sink = AuditFile(path)
    return list(reversed(sink.recent(limit=1 << 62)))

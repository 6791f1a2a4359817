"""Loading dg.account.v1 JSON Lines into the control plane (``distillguard accounts import``).

Following the data contract's rule for bad input, a malformed line, a wrong type, a missing
required field, a bad timestamp or address is counted and kept with its line number and reason;
the import goes on. Optionally one API key is created per imported account, so that simulated
traffic can be replayed through the gateway under the same accounts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from distillguard.controlplane.records import (
    PROGRAMS,
    VERIFICATION_LEVELS,
    AccountRecord,
    CreatedKey,
)
from distillguard.controlplane.rows import new_account_row
from distillguard.controlplane.store import ControlPlaneStore
from distillguard.errors import InputError

_OPTIONAL_TEXT = (
    "org_id",
    "email",
    "email_domain",
    "signup_ip",
    "signup_user_agent",
    "payment_fingerprint",
    "payment_country",
    "country",
)


@dataclass(frozen=True, slots=True)
class Reject:
    """A record left out: 1-based line number, a stable reason code and a readable message."""

    line: int
    reason: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "reason": self.reason, "message": self.message}


@dataclass(slots=True)
class ImportReport:
    """What an import did."""

    imported: list[AccountRecord] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    keys: list[CreatedKey] = field(default_factory=list)

    def reasons(self) -> dict[str, int]:
        """Rejects counted by reason code."""
        counts: dict[str, int] = {}
        for reject in self.rejects:
            counts[reject.reason] = counts.get(reject.reason, 0) + 1
        return counts


def import_accounts(
    store: ControlPlaneStore,
    lines: Iterable[bytes],
    *,
    create_keys: bool = False,
    key_name: str = "imported",
    batch_size: int = 2000,
) -> ImportReport:
    """Import dg.account.v1 records from JSON Lines; bad records become :class:`Reject` entries."""
    report = ImportReport()
    batch: list[tuple[int, dict[str, Any]]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            batch.append((number, account_fields(orjson.loads(line))))
        except orjson.JSONDecodeError as exc:
            report.rejects.append(Reject(number, "malformed_json", str(exc)))
        except _BadRecord as exc:
            report.rejects.append(Reject(number, exc.reason, str(exc)))
        if len(batch) >= batch_size:
            _flush(store, batch, report, create_keys, key_name)
            batch = []
    _flush(store, batch, report, create_keys, key_name)
    return report


class _BadRecord(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def account_fields(record: object) -> dict[str, Any]:
    """Check one decoded dg.account.v1 record and return keyword arguments for the store."""
    if not isinstance(record, Mapping):
        raise _BadRecord(
            "not_an_object", f"a record must be a JSON object, got {type(record).__name__}"
        )
    for name in ("account_id", "created_at", "verification", "program"):
        if name not in record or record[name] is None:
            raise _BadRecord("missing_field", f"required field {name!r} is missing")
    account_id, created_at = record["account_id"], record["created_at"]
    if not isinstance(account_id, str) or not account_id:
        raise _BadRecord("wrong_type", "account_id must be a non-empty string")
    if not isinstance(created_at, str):
        raise _BadRecord("wrong_type", "created_at must be an RFC 3339 string")
    try:
        moment = datetime.fromisoformat(created_at.replace("Z", "+00:00"))
    except ValueError:
        raise _BadRecord("bad_timestamp", f"created_at {created_at!r} is not RFC 3339") from None
    if moment.tzinfo is None:
        raise _BadRecord("bad_timestamp", f"created_at {created_at!r} has no time zone")
    if record["verification"] not in VERIFICATION_LEVELS:
        raise _BadRecord("invalid_value", f"verification {record['verification']!r} is not allowed")
    if record["program"] not in PROGRAMS:
        raise _BadRecord("invalid_value", f"program {record['program']!r} is not allowed")
    tier = record.get("tier")
    if tier is not None and (isinstance(tier, bool) or not isinstance(tier, int) or tier < 0):
        raise _BadRecord("wrong_type", f"tier must be a non-negative integer or null, got {tier!r}")
    fields: dict[str, Any] = {
        "account_id": account_id,
        "created_at": moment,
        "verification": record["verification"],
        "program": record["program"],
        "tier": tier,
    }
    for name in _OPTIONAL_TEXT:
        value = record.get(name)
        if value is not None and not isinstance(value, str):
            raise _BadRecord(
                "wrong_type", f"{name} must be a string or null, got {type(value).__name__}"
            )
        fields[name] = value
    return fields


def _flush(
    store: ControlPlaneStore,
    batch: list[tuple[int, dict[str, Any]]],
    report: ImportReport,
    create_keys: bool,
    key_name: str,
) -> None:
    rows, numbers = [], []
    for number, fields in batch:
        try:
            rows.append(new_account_row(**fields))
            numbers.append(number)
        except InputError as exc:
            report.rejects.append(Reject(number, "invalid_value", str(exc)))
    if not rows:
        return
    added, refused = store.add_accounts(rows)
    report.rejects.extend(Reject(numbers[i], "refused", message) for i, message in refused.items())
    report.rejects.sort(key=lambda reject: reject.line)
    report.imported.extend(added)
    if create_keys and added:
        report.keys.extend(store.create_keys([a.account_id for a in added], name=key_name))

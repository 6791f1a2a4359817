"""Evidence keys: what two accounts can share, each as ``(account_id, kind, key)``.

Kinds (stable names, weighted in ``defaults.toml``):

- ``ip_window``: the same client address within a time window (SynchroTrap's ⟨U, T, C⟩ with C
  an address);
- ``prefix_day``: the same /24 or /48 network on the same day;
- ``ja4_agent``: the same TLS fingerprint with the same user agent;
- ``template`` / ``lsh``: the same masked-prompt fingerprint, or the same MinHash LSH bucket
  (near-duplicate prompts, paraphrases);
- ``template_sync``: the same LSH bucket within a short window (loosely synchronised activity);
- ``system_prompt``: the same system prompt;
- ``payment``, ``email_pattern``, ``signup_burst``, ``signup_network``: sign-up traces.

Keys are 64-bit hashes computed by DuckDB; only rarity matters downstream, so no key text is
kept.
"""

from __future__ import annotations

import duckdb

from distillguard.detect.config import KeyKind


def _window_ms(kind: KeyKind) -> int:
    return max(kind.window_minutes, 1) * 60_000


def evidence_sql(kinds: dict[str, KeyKind]) -> str:
    """SQL that builds table ``evidence`` (distinct account, kind, key) for enabled kinds."""
    parts: list[str] = []
    req = "FROM requests r"

    def add(name: str, select: str) -> None:
        if name in kinds and kinds[name].weight > 0:
            parts.append(select)

    if "ip_window" in kinds:
        w = _window_ms(kinds["ip_window"])
        add(
            "ip_window",
            f"SELECT account_id, 'ip_window' AS kind, "
            f"hash(client_ip, epoch_ms(ts) // {w}) AS key {req}",
        )
    if "prefix_day" in kinds:
        w = _window_ms(kinds["prefix_day"])
        add(
            "prefix_day",
            f"SELECT r.account_id, 'prefix_day', hash(i.prefix, epoch_ms(r.ts) // {w}) "
            f"{req} JOIN ips i USING (client_ip) WHERE i.prefix IS NOT NULL",
        )
    add(
        "ja4_agent",
        f"SELECT account_id, 'ja4_agent', hash(tls_ja4, user_agent) {req} "
        "WHERE tls_ja4 IS NOT NULL AND user_agent IS NOT NULL",
    )
    add("template", f"SELECT account_id, 'template', hash(template) {req} WHERE template <> 0")
    add(
        "lsh",
        f"SELECT account_id, 'lsh', hash(lsh_0) {req} WHERE lsh_0 <> 0 UNION ALL "
        f"SELECT account_id, 'lsh', hash(lsh_1) {req} WHERE lsh_1 <> 0",
    )
    if "template_sync" in kinds:
        w = _window_ms(kinds["template_sync"])
        add(
            "template_sync",
            f"SELECT account_id, 'template_sync', hash(lsh_0, epoch_ms(ts) // {w}) {req} "
            "WHERE lsh_0 <> 0",
        )
    add(
        "system_prompt",
        f"SELECT account_id, 'system_prompt', hash(system_hash) {req} WHERE system_hash <> 0",
    )
    signup = "FROM account_signup"
    add(
        "payment",
        f"SELECT account_id, 'payment', hash(payment_fingerprint) {signup} "
        "WHERE payment_fingerprint IS NOT NULL",
    )
    add(
        "email_pattern",
        f"SELECT account_id, 'email_pattern', hash(email_pattern) {signup} "
        "WHERE email_pattern IS NOT NULL AND email_kind <> 'custom'",
    )
    add(
        "signup_burst",
        f"SELECT account_id, 'signup_burst', hash(created_hour) {signup} WHERE burst_ratio >= 3",
    )
    add(
        "signup_network",
        f"SELECT account_id, 'signup_network', hash(signup_prefix) {signup} "
        "WHERE signup_prefix IS NOT NULL",
    )
    if not parts:
        return "CREATE OR REPLACE TABLE evidence (account_id VARCHAR, kind VARCHAR, key UBIGINT)"
    union = "\nUNION ALL\n".join(parts)
    return f"CREATE OR REPLACE TABLE evidence AS SELECT DISTINCT * FROM (\n{union}\n) e(account_id, kind, key)"


def build_evidence(db: duckdb.DuckDBPyConnection, kinds: dict[str, KeyKind]) -> None:
    """(Re)build table ``evidence``; needs ``requests``, ``ips`` and ``account_signup``."""
    db.execute(evidence_sql(kinds))

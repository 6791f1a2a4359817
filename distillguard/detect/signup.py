"""Sign-up traces of accounts: e-mail domain kind and pattern, payment sharing, bursts.

Builds table ``account_signup`` (one row per account record) from ``accounts``. Shared traces
(how many accounts use this payment instrument, this e-mail shape, this sign-up network) are
counted here so that scoring and linking can weigh them by rarity.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from distillguard.detect.enrich.email import classify_domain, domain_of, local_pattern
from distillguard.detect.enrich.network import prefix_of

SIGNUP_SQL = """
CREATE OR REPLACE TABLE account_signup AS
WITH a AS (
    SELECT a.*, x.email_kind, x.email_pattern, x.signup_prefix, x.domain,
           date_trunc('hour', a.created_at) AS created_hour
    FROM accounts a JOIN signup_extra x USING (account_id)
),
domain_rate AS (
    SELECT domain, count(*) AS n,
           greatest(date_diff('hour', min(created_at), max(created_at)), 1) AS span_hours
    FROM a WHERE domain IS NOT NULL GROUP BY domain
),
burst AS (
    SELECT domain, created_hour, count(*) AS peers FROM a WHERE domain IS NOT NULL GROUP BY ALL
)
SELECT a.account_id, a.program, a.verification, a.email_kind, a.email_pattern, a.signup_prefix,
       a.payment_fingerprint, a.created_at, a.domain, a.created_hour,
       count(*) OVER (PARTITION BY a.payment_fingerprint) AS payment_shared,
       count(*) OVER (PARTITION BY a.email_pattern, date_trunc('week', a.created_at)) AS pattern_shared,
       coalesce(b.peers, 0) AS burst_peers,
       coalesce(b.peers / greatest(r.n / r.span_hours, 1.0), 0) AS burst_ratio
FROM a
LEFT JOIN burst b ON a.domain = b.domain AND a.created_hour = b.created_hour
LEFT JOIN domain_rate r ON a.domain = r.domain;
"""


def compute_signup(db: duckdb.DuckDBPyConnection) -> None:
    """(Re)build ``account_signup`` from ``accounts``."""
    rows = db.execute("SELECT account_id, email, email_domain, signup_ip FROM accounts").fetchall()
    domains = [domain_of(r[1], r[2]) for r in rows]
    extra = pa.table(
        {
            "account_id": [r[0] for r in rows],
            "domain": pa.array(domains, pa.string()),
            "email_kind": pa.array([classify_domain(d) for d in domains], pa.string()),
            "email_pattern": pa.array([local_pattern(r[1]) for r in rows], pa.string()),
            "signup_prefix": pa.array(
                [prefix_of(r[3]) if r[3] else None for r in rows], pa.string()
            ),
        }
    )
    db.register("signup_extra", extra)
    try:
        db.execute(SIGNUP_SQL)
    finally:
        db.unregister("signup_extra")
    # Window counts over NULL partitions count every NULL row together; a missing trace is
    # not a shared one.
    db.execute(
        "UPDATE account_signup SET payment_shared = 0 WHERE payment_fingerprint IS NULL;"
        "UPDATE account_signup SET pattern_shared = 0 WHERE email_pattern IS NULL;"
    )

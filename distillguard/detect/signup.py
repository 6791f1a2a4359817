"""Sign-up traces of accounts: e-mail domain kind and pattern, payment sharing, bursts.

Builds table ``account_signup`` (one row per account record) from ``accounts``. Shared traces
(how many accounts use this payment instrument, this e-mail shape, this sign-up network) are
counted here so that scoring and linking can weigh them by rarity. A sign-up burst is measured
as the number of other accounts created within an hour either side, against the usual number
for two hours around that date (the sign-up rate of the surrounding 60 days).

A burst alone says little: a class signs up together for an education program. What a class
does not do is sign up from dozens of networks at once. ``program_peers`` counts, for an account
on a sponsored program (education, research, start-up), the other sponsored-program sign-ups
within an hour either side that came from a *different* known sign-up network (/24 or /48;
sign-ups without an address count for nobody); a cohort
behind one campus address has none, an account farm fed through residential proxies has the
whole burst. ``program_ratio`` sets it against the usual number of sponsored sign-ups for two
hours around that date.
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
           date_trunc('hour', a.created_at) AS created_hour,
           CAST(coalesce(a.program IN ('education', 'research', 'startup'), false)
                AND x.signup_prefix IS NOT NULL AS INTEGER) AS sponsored
    FROM accounts a JOIN signup_extra x USING (account_id)
),
density AS (
    SELECT account_id,
           count(*) OVER hour AS peers,
           count(*) OVER days / 720.0 AS expected,
           sum(sponsored) OVER hour AS sponsored_peers,
           sum(sponsored) OVER (PARTITION BY signup_prefix ORDER BY created_at
                                RANGE BETWEEN INTERVAL 1 HOUR PRECEDING
                                AND INTERVAL 1 HOUR FOLLOWING) AS sponsored_same_network,
           sum(sponsored) OVER days / 720.0 AS sponsored_expected
    FROM a
    WINDOW hour AS (ORDER BY created_at RANGE BETWEEN INTERVAL 1 HOUR PRECEDING
                    AND INTERVAL 1 HOUR FOLLOWING),
           days AS (ORDER BY created_at RANGE BETWEEN INTERVAL 30 DAY PRECEDING
                    AND INTERVAL 30 DAY FOLLOWING)
)
SELECT a.account_id, a.program, a.verification, a.email_kind, a.email_pattern, a.signup_prefix,
       a.payment_fingerprint, a.created_at, a.domain, a.created_hour,
       count(*) OVER (PARTITION BY a.payment_fingerprint) AS payment_shared,
       count(*) OVER (PARTITION BY a.email_pattern, date_trunc('week', a.created_at))
           AS pattern_shared,
       d.peers - 1 AS burst_peers,
       (d.peers - 1) / greatest(d.expected, 1.0) AS burst_ratio,
       CASE WHEN a.sponsored = 1
            THEN d.sponsored_peers - d.sponsored_same_network ELSE 0 END AS program_peers,
       CASE WHEN a.sponsored = 1
            THEN (d.sponsored_peers - d.sponsored_same_network)
                 / greatest(d.sponsored_expected, 1.0) ELSE 0.0 END AS program_ratio
FROM a JOIN density d USING (account_id);
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

"""Exit addresses of confident campaigns: where a replacement account's first request comes from.

An operator whose accounts are blocked buys new ones and keeps sending through the proxies it
has. Nothing links a new account before it has sent enough to score, so each one is served
until the next detection run names it. What the new account shares with the campaign from its
first request is the address it sends from.

An address is an exit of a campaign with confidence at least ``exit_confidence`` when

- the campaign's accounts sent requests from it, more than any other such campaign did;
- the accounts of such campaigns and the suspects (accounts scored at least
  ``exit_suspect_score``, most of them a farm's newer accounts that nothing links yet) sent at
  least ``exit_share`` (half) of its requests in the window: an address that ordinary users
  share with the farm (a carrier's NAT, a campus, a hotspot the proxies once passed through)
  stays off the list, as in the cohort's address path (:mod:`distillguard.detect.cohort`). An
  operator that replaces its blocked accounts sends most of its traffic through accounts that
  are suspected but not linked: in the closed loop with the adaptive attacker, linked members
  alone were the majority at 2 of the proxy network's 1,200 addresses;
- those accounts sent a request from it in the last ``exit_recent_hours`` of the window: a
  residential proxy's exit is somebody's home connection, lent to the farm for a while;
- no established account that is neither (signed up more than ``attach_max_age_days`` before
  the window's last request, as for attachment and cohorts) sent a request from it in the
  window: that is the home or office the proxy borrows. In the 35-day closed loop, without
  this condition, 42 benign accounts were challenged at their own addresses (0.11% of benign
  requests); a farm's replacements are days old.

The busiest ``exit_limit`` addresses per campaign go into its ``infrastructure.exit_addresses``
in dg.findings.v1 (``infrastructure`` is a free-form object there). Detection takes no action
on them; a policy rule with ``cascade = "addresses"`` (:mod:`distillguard.enforce.policy`)
turns them into challenges that callers below a verification level meet on their first request.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import duckdb
import pyarrow as pa

from distillguard.detect.campaigns import YOUNG_SQL, Campaign, query_with

EXITS_SQL = f"""
WITH residents AS (  -- addresses an established, unsuspected account sent from in the window
    SELECT DISTINCT client_ip FROM requests
    WHERE client_ip IS NOT NULL
      AND account_id NOT IN (SELECT account_id FROM exit_accounts)
      AND account_id NOT IN ({YOUNG_SQL.format(age="$age")})
),
per_address AS (
    SELECT r.client_ip, m.campaign_id, m.account_id IS NOT NULL AS suspect, count(*) AS n,
           max(r.ts::TIMESTAMP) AS last_ts
    FROM requests r LEFT JOIN exit_accounts m USING (account_id)
    WHERE r.client_ip IS NOT NULL AND r.client_ip NOT IN (SELECT client_ip FROM residents)
    GROUP BY ALL
),
shares AS (
    SELECT *,
           sum(n) OVER (PARTITION BY client_ip) AS total,
           sum(CASE WHEN suspect THEN n ELSE 0 END) OVER (PARTITION BY client_ip) AS suspects,
           max(CASE WHEN suspect THEN last_ts END) OVER (PARTITION BY client_ip) AS suspect_ts,
           row_number() OVER (
               PARTITION BY client_ip ORDER BY campaign_id IS NULL, n DESC, campaign_id
           ) AS busiest
    FROM per_address
),
ranked AS (
    SELECT campaign_id, client_ip,
           row_number() OVER (PARTITION BY campaign_id ORDER BY n DESC, client_ip) AS rank
    FROM shares
    WHERE campaign_id IS NOT NULL AND busiest = 1 AND suspects >= $share * total
      AND suspect_ts >= (SELECT max(ts::TIMESTAMP) FROM requests) - to_hours($recent)
)
SELECT campaign_id, client_ip FROM ranked WHERE rank <= $limit ORDER BY campaign_id, rank
"""


def add_exit_addresses(
    db: duckdb.DuckDBPyConnection,
    campaigns: Sequence[Campaign],
    suspects: Collection[str],
    *,
    min_confidence: float,
    share: float,
    recent_hours: int,
    limit: int,
    max_age_days: int,
) -> int:
    """Set ``infrastructure["exit_addresses"]`` on the campaigns of at least ``min_confidence``
    (an empty list on the others); return how many addresses were listed. ``limit`` < 1: off.

    ``suspects`` are accounts outside those campaigns whose requests count on the campaigns'
    side (accounts detection scored as suspicious). An address that an account outside both,
    signed up more than ``max_age_days`` before the last request, sent from in the window is
    somebody's home or office and never listed. Needs ``requests`` (``account_id``,
    ``client_ip``, ``ts``) and ``account_signup``.
    """
    for campaign in campaigns:
        campaign.infrastructure["exit_addresses"] = []
    confident = {c.campaign_id: c for c in campaigns if c.confidence >= min_confidence}
    if limit < 1 or not confident:
        return 0
    owner = {a: cid for cid, c in confident.items() for a in c.account_ids}
    others = sorted(set(suspects) - owner.keys())
    accounts = pa.table(
        {
            "account_id": pa.array([*owner, *others], pa.string()),
            "campaign_id": pa.array([*owner.values(), *[None] * len(others)], pa.string()),
        }
    )
    params = {"share": share, "recent": recent_hours, "limit": limit, "age": max_age_days}
    rows = query_with(db, "exit_accounts", accounts, EXITS_SQL, params)
    for campaign_id, address in rows:
        confident[campaign_id].infrastructure["exit_addresses"].append(str(address))
    return len(rows)

"""Sign-up cohorts of confident campaigns: the farm's accounts that nothing links yet.

An operator builds its fleet before a campaign starts and brings the accounts in a few at a
time. An account that has sent nothing yet, or too little to score or link, cannot be tied to
the campaign by what it asks; what it shares with the campaign is how it was made. Once a
campaign is confident, its members' sign-up traces name the rest of the fleet:

- **payment**: the account pays with an instrument a member of the campaign pays with;
- **network**: the account signed up from an address that members of the campaign sent
  requests from, and their requests are at least half of the address's requests in the window
  (a shared NAT or a public hotspot a farm once passed through is not enough): an operator
  replacing suspended accounts signs them up through the proxies the fleet uses;
- **burst**: the account signed up through a sponsored program (education, research, start-up)
  within an hour either side of at least ``cohort_min_members`` members of the campaign, and at
  least ``cohort_min_members`` sponsored sign-ups in that span came from networks other than
  the account's own (the ``program_burst`` trace of :mod:`distillguard.detect.signup`). A class
  signing up behind its campus address has no such peers, and a sign-up through the standard
  path during a burst is what a launch or a viral post produces: neither is enough on its own.
  The members must also be at least ``cohort_share`` (10%) of all the sign-ups in the span: in
  the closed loop, a student who signed up among 482 others, 7 of them proxy-farm members, was
  otherwise named. The share is low because early in a campaign only part of the fleet is
  linked: 12 hours into the agentic harvester, its 40 linked members were a third of its
  burst's sign-ups.

Only accounts outside every campaign that signed up at most ``attach_max_age_days`` before the
last request are considered, as for attachment (:mod:`distillguard.detect.campaigns`), and of
those with requests in the window only the ones whose requests carry an extraction signal
(sign-up traces do not count): in the same loop, two start-up founders who signed up during
the proxy farm's bursts, and whose requests asked for nothing extraction wants, were otherwise
named. A cohort account is not a campaign member (it has no links); it gets a
``campaign_cohort`` reason naming the campaign, and the policy decides what to do with it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from distillguard.detect.campaigns import YOUNG_SQL, Campaign, query_with

SPONSORED = ("education", "research", "startup")

COHORT_SQL = f"""
WITH seeds AS (
    SELECT m.campaign_id, s.account_id, s.created_at::TIMESTAMP AS created_at,
           s.payment_fingerprint
    FROM cohort_seeds m JOIN account_signup s USING (account_id)
    WHERE m.campaign_id <> ''
),
free AS (
    SELECT s.account_id, s.created_at::TIMESTAMP AS created_at, s.payment_fingerprint,
           s.program, s.program_peers, s.burst_peers, a.signup_ip
    FROM account_signup s JOIN accounts a USING (account_id)
    WHERE s.account_id NOT IN (SELECT account_id FROM cohort_seeds)
      AND s.account_id IN ({YOUNG_SQL.format(age="$age")})
),
from_signup_ips AS (  -- the window's requests from the free accounts' sign-up addresses
    SELECT client_ip, account_id FROM requests WHERE client_ip IN (SELECT signup_ip FROM free)
),
addresses AS (SELECT client_ip, count(*) AS requests FROM from_signup_ips GROUP BY ALL),
by_network AS (
    SELECT f.account_id, m.campaign_id, 'network' AS path,
           count(DISTINCT m.account_id) AS shared, any_value(a.requests) AS span
    FROM free f JOIN addresses a ON a.client_ip = f.signup_ip
    JOIN from_signup_ips r ON r.client_ip = f.signup_ip
    JOIN seeds m ON m.account_id = r.account_id
    GROUP BY f.account_id, m.campaign_id
    HAVING count(*) >= 0.5 * any_value(a.requests)
),
by_payment AS (
    SELECT f.account_id, m.campaign_id, 'payment' AS path, count(*) AS shared, 0 AS span
    FROM free f JOIN seeds m ON f.payment_fingerprint = m.payment_fingerprint
    GROUP BY ALL
),
by_burst AS (
    SELECT f.account_id, m.campaign_id, 'burst' AS path, count(*) AS shared,
           any_value(f.burst_peers) AS span
    FROM free f JOIN seeds m
      ON m.created_at BETWEEN f.created_at - INTERVAL 1 HOUR AND f.created_at + INTERVAL 1 HOUR
    WHERE f.program IN {SPONSORED} AND f.program_peers >= $members
    GROUP BY f.account_id, m.campaign_id
    HAVING count(*) >= $members AND count(*) >= $share * greatest(any_value(f.burst_peers), 1)
)
SELECT * FROM by_payment UNION ALL SELECT * FROM by_network UNION ALL SELECT * FROM by_burst
ORDER BY account_id, path DESC, shared DESC, campaign_id
"""


@dataclass(frozen=True, slots=True)
class CohortMember:
    """An account outside every campaign that shares its sign-up with a confident one."""

    account_id: str
    campaign_id: str
    confidence: float
    path: str  # "payment", "network" or "burst"
    shared: int  # campaign members sharing the instrument or address, or signed up in the hour
    span: int  # other sign-ups within the hour (burst), requests from the address (network)

    def detail(self) -> str:
        if self.path == "payment":
            return (
                f"pays with an instrument that {self.shared} member(s) of campaign "
                f"{self.campaign_id} (confidence {self.confidence:.2f}) pay with"
            )
        if self.path == "network":
            return (
                f"signed up from an address that {self.shared} member(s) of campaign "
                f"{self.campaign_id} (confidence {self.confidence:.2f}) sent most of its "
                f"{self.span} requests in the window from"
            )
        return (
            f"signed up through a sponsored program within an hour of {self.shared} members "
            f"of campaign {self.campaign_id} (confidence {self.confidence:.2f}), "
            f"{self.shared} of the {self.span} other sign-ups in that span"
        )


def find_cohorts(
    db: duckdb.DuckDBPyConnection,
    campaigns: Sequence[Campaign],
    cleared: Collection[str],
    *,
    min_confidence: float,
    min_members: int,
    share: float,
    max_age_days: int,
) -> list[CohortMember]:
    """The cohort members of the campaigns with confidence >= ``min_confidence`` (at most
    one campaign per account: payment, then address, then burst, then the most members
    shared).

    ``cleared`` holds the accounts whose requests in the window carry no extraction signal:
    they have shown what they do, and it is not extraction, so they are left out.
    Needs ``account_signup`` and ``requests``; ``min_members`` < 1 turns cohorts off.
    """
    confident = {c.campaign_id: c for c in campaigns if c.confidence >= min_confidence}
    if min_members < 1 or not confident:
        return []
    # members of the campaigns below the bar are not free to join another one either
    pairs = [
        (c.campaign_id if c.campaign_id in confident else "", a)
        for c in campaigns
        for a in c.account_ids
    ]
    seeds = pa.table(
        {
            "campaign_id": pa.array([cid for cid, _ in pairs], pa.string()),
            "account_id": pa.array([a for _, a in pairs], pa.string()),
        }
    )
    params = {"age": max_age_days, "members": min_members, "share": share}
    rows = query_with(db, "cohort_seeds", seeds, COHORT_SQL, params)
    found: dict[str, CohortMember] = {}
    for account_id, campaign_id, path, shared, span in rows:
        if account_id not in found and account_id not in cleared:
            found[account_id] = CohortMember(
                account_id,
                campaign_id,
                confident[campaign_id].confidence,
                path,
                int(shared),
                int(span or 0),
            )
    return list(found.values())

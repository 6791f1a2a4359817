"""Per-account behaviour over the stored requests, as SQL run by DuckDB.

One row per account in table ``account_features``: volume and token profile, single-turn share,
timing regularity and daily rhythm (hour-of-day entropy), IP churn and network types,
capability concentration and coverage, template repetition, API-parameter habits
(``max_tokens`` sweeps, ``n`` > 1, logprobs, logit_bias, temperature), intent shares and an early
jump to a newly released model. The statements are plain SQL over two tables (``requests``,
``ips``) with no Python in between, so they can be moved to another engine (Ibis, Spark SQL)
unchanged in spirit.
"""

from __future__ import annotations

import duckdb

FEATURES_SQL = """
CREATE OR REPLACE TEMP VIEW enriched AS
SELECT r.*, i.prefix, i.asn, i.kind, hour(r.ts) AS hod, epoch_ms(r.ts) AS tms
FROM requests r LEFT JOIN ips i USING (client_ip);

CREATE OR REPLACE TABLE account_base AS
SELECT
    account_id,
    count(*) AS requests,
    count(DISTINCT CAST(ts AS DATE)) AS active_days,
    min(ts) AS first_seen,
    max(ts) AS last_seen,
    avg(coalesce(input_tokens, 0)) AS avg_input_tokens,
    avg(coalesce(output_tokens, 0)) AS avg_output_tokens,
    avg(CASE WHEN n_user <= 1 AND n_assistant = 0 THEN 1.0 ELSE 0.0 END) AS single_turn,
    avg(CASE WHEN intents & 1 <> 0 THEN 1.0 ELSE 0.0 END) AS cot_share,
    avg(CASE WHEN intents & 2 <> 0 THEN 1.0 ELSE 0.0 END) AS sysprompt_share,
    avg(CASE WHEN intents & 4 <> 0 THEN 1.0 ELSE 0.0 END) AS rubric_share,
    avg(CASE WHEN intents & 8 <> 0 THEN 1.0 ELSE 0.0 END) AS synthetic_share,
    count(DISTINCT client_ip) AS ips,
    count(DISTINCT prefix) AS prefixes,
    count(DISTINCT asn) AS asns,
    avg(CASE WHEN kind = 'residential' THEN 1.0 ELSE 0.0 END) AS residential_share,
    avg(CASE WHEN kind = 'hosting' OR kind = 'vpn' THEN 1.0 ELSE 0.0 END) AS hosting_share,
    avg(CASE WHEN kind = 'mobile' THEN 1.0 ELSE 0.0 END) AS mobile_share,
    count(DISTINCT user_agent) AS user_agents,
    count(DISTINCT tls_ja4) AS ja4s,
    count(DISTINCT max_tokens) AS max_tokens_values,
    avg(CASE WHEN n > 1 THEN 1.0 ELSE 0.0 END) AS n_gt1_share,
    avg(CASE WHEN logprobs THEN 1.0 ELSE 0.0 END) AS logprobs_share,
    avg(CASE WHEN logit_bias_size > 0 THEN 1.0 ELSE 0.0 END) AS logit_bias_share,
    count(DISTINCT temperature) AS temperatures,
    count(*) FILTER (WHERE template <> 0) AS content_requests,
    count(DISTINCT template) FILTER (WHERE template <> 0) AS templates,
    count(DISTINCT model) AS models
FROM enriched
GROUP BY account_id;

CREATE OR REPLACE TABLE account_rhythm AS
WITH h AS (SELECT account_id, hod, count(*) AS c FROM enriched GROUP BY ALL),
t AS (SELECT account_id, sum(c) AS total FROM h GROUP BY ALL)
SELECT account_id, -sum((c / total) * ln(c / total)) / ln(24) AS hour_entropy
FROM h JOIN t USING (account_id) GROUP BY account_id;

CREATE OR REPLACE TABLE account_gaps AS
WITH g AS (
    SELECT account_id, tms - lag(tms) OVER (PARTITION BY account_id ORDER BY tms) AS gap
    FROM enriched
)
SELECT account_id,
       CASE WHEN count(gap) >= 3 AND avg(gap) > 0 THEN stddev_pop(gap) / avg(gap) END AS gap_cv,
       median(gap) / 1000.0 AS median_gap_s
FROM g GROUP BY account_id;

CREATE OR REPLACE TABLE account_domains AS
WITH d AS (
    SELECT account_id, domain, count(*) AS c FROM enriched WHERE domain < 7 GROUP BY ALL
),
t AS (SELECT account_id, sum(c) AS total FROM d GROUP BY ALL)
SELECT account_id,
       max(c / total) AS top_domain_share,
       count(*) FILTER (WHERE c / total >= 0.05) AS domain_coverage,
       count(*) FILTER (WHERE c / total >= 0.05 AND domain <= 4) AS capability_coverage,
       arg_max(domain, c) AS top_domain
FROM d JOIN t USING (account_id) GROUP BY account_id;

CREATE OR REPLACE TABLE account_templates AS
WITH d AS (
    SELECT account_id, template, count(*) AS c FROM enriched WHERE template <> 0 GROUP BY ALL
),
t AS (SELECT account_id, sum(c) AS total FROM d GROUP BY ALL)
SELECT account_id, max(c / total) AS top_template_share
FROM d JOIN t USING (account_id) GROUP BY account_id;

CREATE OR REPLACE TABLE model_release AS
SELECT model, min(ts) AS released FROM requests GROUP BY model;

CREATE OR REPLACE TABLE account_model_jump AS
WITH start AS (SELECT min(ts) AS t0 FROM requests),
fresh AS (
    SELECT m.model, m.released FROM model_release m, start
    WHERE m.released > start.t0 + INTERVAL 2 DAY
),
use AS (
    SELECT e.account_id, f.model, f.released,
           min(e.ts) FILTER (WHERE e.model = f.model) AS first_use,
           avg(CASE WHEN e.model = f.model THEN 1.0 ELSE 0.0 END) AS share_after
    FROM enriched e JOIN fresh f ON e.ts >= f.released
    GROUP BY ALL
)
SELECT account_id,
       max(CASE WHEN first_use <= released + INTERVAL 1 DAY AND share_after >= 0.5
                THEN 1.0 ELSE 0.0 END) AS early_model_jump
FROM use GROUP BY account_id;

CREATE OR REPLACE TABLE account_features AS
SELECT b.*,
       coalesce(r.hour_entropy, 0) AS hour_entropy,
       g.gap_cv, g.median_gap_s,
       coalesce(d.top_domain_share, 0) AS top_domain_share,
       coalesce(d.domain_coverage, 0) AS domain_coverage,
       coalesce(d.capability_coverage, 0) AS capability_coverage,
       d.top_domain,
       coalesce(t.top_template_share, 0) AS top_template_share,
       coalesce(j.early_model_jump, 0) AS early_model_jump,
       b.requests / greatest(b.active_days, 1) AS requests_per_day,
       b.ips / b.requests AS ip_churn
FROM account_base b
LEFT JOIN account_rhythm r USING (account_id)
LEFT JOIN account_gaps g USING (account_id)
LEFT JOIN account_domains d USING (account_id)
LEFT JOIN account_templates t USING (account_id)
LEFT JOIN account_model_jump j USING (account_id);
"""


def compute_features(db: duckdb.DuckDBPyConnection) -> None:
    """(Re)build ``account_features`` from ``requests`` and ``ips``."""
    db.execute(FEATURES_SQL)

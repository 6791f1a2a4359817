"""Loading one dataset (findings, accounts, request logs) into DuckDB, once, at start-up.

The request logs are read through :mod:`distillguard.logs.reader` (validated, bad records set
aside with their reason), enriched with the address's network prefix and sortable hex form and
the extraction methods each request shows, and stored sorted by account so that per-account
lookups touch few row groups. Everything the pages need is then aggregated into small tables:

========== ==============================================================
table      rows
========== ==============================================================
requests   one per request (prompt and system prompt cut to 600 chars)
membership account -> campaign, score, flagged (from the findings)
accounts   the dg.account.v1 records (empty when no accounts file)
acct_day   requests per account per day
camp_day   requests per campaign per day (campaign ``''`` = unattributed)
acct_stats per account: requests, first/last seen, distinct IPs, keys, ...
acct_infra per account and kind (prefix, ja4, ip, key, model, ua): value, requests
camp_infra per campaign and kind: value, requests, accounts
camp_method per campaign and method: requests showing it
camp_sample per campaign: up to 12 prompts from distinct accounts
camp_decision per campaign and gateway decision: requests, refused (status >= 400)
graph_*    per campaign, a sample of accounts and the infrastructure they share
========== ==============================================================
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from distillguard.console.findings import Findings
from distillguard.console.network import address_key
from distillguard.logs.reader import read_accounts, request_batches
from distillguard.logs.rejects import RejectSink
from distillguard.report.methods import METHOD_NAMES, method_columns

TEXT_CAP = 600
SAMPLES_PER_CAMPAIGN = 12
GRAPH_ACCOUNTS = 300
INFRA_KINDS = {
    "prefix": "prefix",
    "ja4": "tls_ja4",
    "ip": "client_ip",
    "key": "api_key_id",
    "model": "model",
    "ua": "user_agent",
    "template": "CAST(template AS VARCHAR)",
}


def _enrich(table: pa.Table, cache: dict[str, tuple[str, str]]) -> pa.Table:
    ips = table.column("client_ip")
    unique = pc.unique(ips).to_pylist()
    keys = [cache.get(ip) or cache.setdefault(ip, address_key(ip)) for ip in unique]
    index = pc.index_in(ips, value_set=pa.array(unique, pa.string()))
    prefix = pc.take(pa.array([k[0] for k in keys], pa.string()), index)
    hexes = pc.take(pa.array([k[1] for k in keys], pa.string()), index)
    ts_ms = table.column("ts").cast(pa.int64())
    table = table.append_column("ts_ms", ts_ms).append_column("prefix", prefix)
    table = table.append_column("ip_hex", hexes)
    for name, column in method_columns(table).items():
        table = table.append_column(name, column)
    return table


_STAGE_SQL = """
INSERT INTO staged SELECT
  epoch_ms(ts_ms) AS ts, request_id, account_id, api_key_id, client_ip, prefix, ip_hex,
  tls_ja4, user_agent, endpoint, model, status, decision,
  left(system, {cap}) AS system, left(prompt, {cap}) AS prompt,
  input_tokens, output_tokens, template, {methods}
FROM batch
"""


def _create_staged(con: duckdb.DuckDBPyConnection) -> None:
    flags = ", ".join(f"m_{name} BOOLEAN" for name in METHOD_NAMES)
    con.execute(
        "CREATE TABLE staged (ts TIMESTAMP, request_id VARCHAR, account_id VARCHAR,"
        " api_key_id VARCHAR, client_ip VARCHAR, prefix VARCHAR, ip_hex VARCHAR,"
        " tls_ja4 VARCHAR, user_agent VARCHAR, endpoint VARCHAR, model VARCHAR,"
        f" status INTEGER, decision VARCHAR, system VARCHAR, prompt VARCHAR,"
        f" input_tokens BIGINT, output_tokens BIGINT, template BIGINT, {flags})"
    )


def load_requests(con: duckdb.DuckDBPyConnection, batches: Iterable[pa.Table]) -> int:
    """Insert request batches (tables of ``logs.reader.REQUEST_SCHEMA``); return the count."""
    _create_staged(con)
    methods = ", ".join(f"m_{name}" for name in METHOD_NAMES)
    sql = _STAGE_SQL.format(cap=TEXT_CAP, methods=methods)
    cache: dict[str, tuple[str, str]] = {}
    total = 0
    for table in batches:
        batch = _enrich(table, cache)
        con.register("batch", batch)
        con.execute(sql)
        con.unregister("batch")
        total += table.num_rows
        if len(cache) > 2_000_000:
            cache.clear()
    con.execute("CREATE TABLE requests AS SELECT * FROM staged ORDER BY account_id, ts")
    con.execute("DROP TABLE staged")
    return total


def load_membership(con: duckdb.DuckDBPyConnection, findings: Findings) -> None:
    """Store account -> campaign, score and flagged from the findings."""
    rows: dict[str, tuple[str, str | None, float, bool]] = {}
    for finding in findings.accounts.values():
        rows[finding.account_id] = (
            finding.account_id,
            finding.campaign_id,
            finding.score,
            finding.flagged,
        )
    for campaign in findings.campaigns:
        for account_id in campaign.account_ids:
            old = rows.get(account_id)
            score, flagged = (old[2], old[3]) if old else (0.0, True)
            rows[account_id] = (account_id, campaign.campaign_id, score, flagged)
    table = pa.table(
        {
            "account_id": pa.array([r[0] for r in rows.values()], pa.string()),
            "campaign_id": pa.array([r[1] for r in rows.values()], pa.string()),
            "score": pa.array([r[2] for r in rows.values()], pa.float64()),
            "flagged": pa.array([r[3] for r in rows.values()], pa.bool_()),
        }
    )
    con.register("membership_in", table)
    con.execute("CREATE TABLE membership AS SELECT * FROM membership_in ORDER BY account_id")
    con.unregister("membership_in")


def load_accounts(con: duckdb.DuckDBPyConnection, table: pa.Table | None) -> None:
    """Store dg.account.v1 records (a table of ``logs.reader.ACCOUNT_SCHEMA``) or none."""
    if table is None:
        con.execute(
            "CREATE TABLE accounts (account_id VARCHAR, org_id VARCHAR, created_at TIMESTAMP,"
            " email VARCHAR, email_domain VARCHAR, signup_ip VARCHAR, signup_user_agent VARCHAR,"
            " payment_fingerprint VARCHAR, payment_country VARCHAR, country VARCHAR,"
            " verification VARCHAR, program VARCHAR, tier BIGINT, signup_prefix VARCHAR)"
        )
        return
    signup = table.column("signup_ip").to_pylist()
    prefixes = pa.array([address_key(ip)[0] or None if ip else None for ip in signup], pa.string())
    created = table.column("created_at").cast(pa.int64())
    accounts_in = table.drop_columns(["created_at"]).append_column("created_ms", created)
    accounts_in = accounts_in.append_column("signup_prefix", prefixes)
    con.register("accounts_in", accounts_in)
    con.execute(
        "CREATE TABLE accounts AS SELECT account_id, org_id, epoch_ms(created_ms) AS created_at,"
        " email, email_domain, signup_ip, signup_user_agent, payment_fingerprint,"
        " payment_country, country, verification, program, tier, signup_prefix"
        " FROM accounts_in ORDER BY account_id"
    )
    con.unregister("accounts_in")


def build_aggregates(con: duckdb.DuckDBPyConnection) -> None:
    """Precompute the per-day, per-account and per-campaign tables the pages read."""
    con.execute(
        "CREATE TABLE req AS SELECT r.*, coalesce(m.campaign_id, '') AS campaign_id"
        " FROM requests r LEFT JOIN membership m USING (account_id)"
    )
    con.execute(
        "CREATE TABLE acct_day AS SELECT account_id, CAST(ts AS DATE) AS day, count(*) AS n"
        " FROM requests GROUP BY ALL ORDER BY account_id, day"
    )
    con.execute(
        "CREATE TABLE camp_day AS SELECT campaign_id, CAST(ts AS DATE) AS day, count(*) AS n"
        " FROM req GROUP BY ALL ORDER BY campaign_id, day"
    )
    con.execute(
        "CREATE TABLE acct_stats AS SELECT account_id, count(*) AS requests,"
        " min(ts) AS first_ts, max(ts) AS last_ts, count(DISTINCT client_ip) AS ips,"
        " count(DISTINCT prefix) AS prefixes, count(DISTINCT api_key_id) AS keys,"
        " count(DISTINCT tls_ja4) AS ja4s, count(DISTINCT CAST(ts AS DATE)) AS days,"
        " sum(coalesce(output_tokens, 0)) AS output_tokens,"
        " count(*) FILTER (WHERE status >= 400) AS rejected"
        " FROM requests GROUP BY account_id ORDER BY account_id"
    )
    parts = [
        f"SELECT account_id, '{kind}' AS kind, {column} AS value, count(*) AS n FROM requests"
        f" WHERE {column} IS NOT NULL AND {column} NOT IN ('', '0') GROUP BY account_id, {column}"
        for kind, column in INFRA_KINDS.items()
    ]
    con.execute(
        "CREATE TABLE acct_infra AS " + " UNION ALL ".join(parts) + " ORDER BY account_id, kind"
    )
    con.execute(
        "CREATE TABLE camp_infra AS SELECT m.campaign_id, a.kind, a.value, sum(a.n) AS requests,"
        " count(*) AS accounts FROM acct_infra a JOIN membership m USING (account_id)"
        " WHERE m.campaign_id IS NOT NULL GROUP BY ALL ORDER BY campaign_id, kind, requests DESC"
    )
    sums = ", ".join(f"count(*) FILTER (WHERE m_{n}) AS {n}" for n in METHOD_NAMES)
    con.execute(
        f"CREATE TABLE camp_method AS SELECT campaign_id, count(*) AS total, {sums}"
        " FROM req GROUP BY campaign_id"
    )
    con.execute(
        "CREATE TABLE camp_sample AS SELECT campaign_id, account_id, ts, system, prompt FROM ("
        "  SELECT *, row_number() OVER (PARTITION BY campaign_id ORDER BY h) AS rank FROM ("
        "    SELECT campaign_id, account_id, ts, system, prompt, hash(request_id) AS h,"
        "      row_number() OVER (PARTITION BY campaign_id, account_id ORDER BY hash(request_id))"
        "      AS k FROM req WHERE campaign_id <> '' AND prompt <> ''"
        "  ) WHERE k = 1"
        f") WHERE rank <= {SAMPLES_PER_CAMPAIGN} ORDER BY campaign_id, rank"
    )
    con.execute(
        "CREATE TABLE camp_decision AS SELECT campaign_id, coalesce(decision, 'allow') AS decision,"
        " count(*) AS n, count(*) FILTER (WHERE status >= 400) AS refused FROM req GROUP BY ALL"
    )
    con.execute("DROP TABLE req")
    con.execute("CREATE INDEX acct_infra_value ON acct_infra (value)")


def build_graph_links(con: duckdb.DuckDBPyConnection, max_accounts: int) -> None:
    """For every campaign, a sample of accounts and the values they share with another one.

    ``graph_sample`` holds up to ``max_accounts`` accounts per campaign (a stable hash order);
    ``graph_links`` their network prefixes, JA4 fingerprints, payment fingerprints and sign-up
    prefixes that at least two sampled accounts of the same campaign share.
    """
    con.execute(
        "CREATE TABLE graph_sample AS SELECT campaign_id, account_id FROM ("
        " SELECT campaign_id, account_id, row_number() OVER (PARTITION BY campaign_id"
        "  ORDER BY hash(account_id), account_id) AS rank FROM membership"
        "  WHERE campaign_id IS NOT NULL)"
        f" WHERE rank <= {int(max_accounts)} ORDER BY campaign_id, account_id"
    )
    con.execute(
        "CREATE TABLE graph_links AS WITH links AS ("
        " SELECT s.campaign_id, a.account_id, a.kind, a.value FROM graph_sample s"
        "  JOIN acct_infra a USING (account_id) WHERE a.kind IN ('prefix', 'ja4')"
        " UNION SELECT s.campaign_id, s.account_id, 'payment', c.payment_fingerprint"
        "  FROM graph_sample s JOIN accounts c USING (account_id)"
        "  WHERE c.payment_fingerprint IS NOT NULL"
        " UNION SELECT s.campaign_id, s.account_id, 'signup', c.signup_prefix"
        "  FROM graph_sample s JOIN accounts c USING (account_id)"
        "  WHERE c.signup_prefix IS NOT NULL)"
        " SELECT * FROM links WHERE (campaign_id, kind, value) IN ("
        "  SELECT (campaign_id, kind, value) FROM links GROUP BY ALL HAVING count(*) >= 2)"
        " ORDER BY campaign_id, account_id, kind, value"
    )


def open_tables(
    findings: Findings, batches: Iterable[pa.Table], accounts: pa.Table | None
) -> tuple[duckdb.DuckDBPyConnection, int]:
    """Load findings, request batches and an accounts table (``logs.reader`` schemas) into a
    fresh in-memory DuckDB; return it and the request count."""
    con = duckdb.connect(":memory:")
    count = load_requests(con, batches)
    load_membership(con, findings)
    load_accounts(con, accounts)
    build_aggregates(con)
    build_graph_links(con, GRAPH_ACCOUNTS)
    return con, count


def open_dataset(
    findings: Findings,
    requests_path: Path | None,
    accounts_path: Path | None,
    rejects: RejectSink,
) -> tuple[duckdb.DuckDBPyConnection, int]:
    """Read the files (bad records to ``rejects``) and load them with :func:`open_tables`."""
    batches: Iterable[pa.Table] = (
        request_batches(requests_path, rejects) if requests_path is not None else ()
    )
    accounts = read_accounts(accounts_path, rejects) if accounts_path else None
    return open_tables(findings, batches, accounts)

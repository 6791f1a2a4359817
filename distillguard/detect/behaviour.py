"""Per-account behaviour over the stored requests, as Ibis expressions.

One row per account: volume and token profile, single-turn share, timing regularity and daily
rhythm (hour-of-day entropy), IP churn and network types, capability concentration and coverage,
template repetition, API-parameter habits (``max_tokens`` sweeps, ``n`` > 1, logprobs,
logit_bias, temperature), intent shares and an early jump to a newly released model.

:func:`account_features` only builds an expression over two tables (``requests`` with the
columns of :data:`distillguard.detect.store.KEPT`, ``ips`` with ``client_ip``, ``prefix``,
``asn``, ``kind``), so the same definitions run on every engine Ibis compiles to. DuckDB, embedded,
is the default (:func:`compute_features`, used by ``distillguard detect``); Apache Spark runs
them when one machine is not enough (:mod:`distillguard.detect.engine.spark`).

Hours and days are those of the engine's session time zone, which both runners pin to UTC (the
detection store sets DuckDB's ``TimeZone``; the Spark runner sets its session's).
"""

from __future__ import annotations

import functools
import math

import duckdb
import ibis
import ibis.expr.types as ir
import sqlglot.expressions as sge
from ibis.backends.sql.compilers.duckdb import compiler as duckdb_compiler

from distillguard.detect.engine.sql import table_schema

# Intent bits of the featurised requests (detect/features/intent.py).
INTENTS = {"cot_share": 1, "sysprompt_share": 2, "rubric_share": 4, "synthetic_share": 8}
# Domains 0..6 are capabilities (0..4 the ones a capability sweep covers); 7 is "other".
OTHER_DOMAIN = 7
LAST_CAPABILITY = 4
COVERED_SHARE = 0.05  # a domain counts towards coverage from this share of an account's requests
# A model is "new" when first seen this long after the data starts; an account jumps to it
# early when it uses it within a day of release for at least half its later traffic.
FRESH_AFTER = ibis.interval(days=2)
EARLY_WITHIN = ibis.interval(days=1)
EARLY_SHARE = 0.5
# The request columns the features read (the join that the parts share carries only these).
USED = (
    "ts", "account_id", "client_ip", "user_agent", "tls_ja4", "model", "n_user", "n_assistant",
    "max_tokens", "temperature", "n", "logprobs", "logit_bias_size", "input_tokens",
    "output_tokens", "template", "intents", "domain",
)  # fmt: skip


def account_features(requests: ir.Table, ips: ir.Table) -> ir.Table:
    """The ``account_features`` table: one row per account in ``requests``.

    Builds an expression and runs nothing; any Ibis backend can execute it. Example, on Ibis's
    default backend (DuckDB) with Arrow tables in memory::

        table = account_features(ibis.memtable(requests), ibis.memtable(ips)).to_pyarrow()
    """
    enriched = _enriched(requests, ips)
    base = _base(enriched)
    rhythm = _rhythm(enriched)
    gaps = _gaps(enriched)
    domains = _domains(enriched)
    templates = _templates(enriched)
    jump = _model_jump(requests, enriched)
    joined = (
        base.left_join(rhythm, "account_id")
        .left_join(gaps, "account_id")
        .left_join(domains, "account_id")
        .left_join(templates, "account_id")
        .left_join(jump, "account_id")
    )
    return joined.select(
        base,
        hour_entropy=rhythm.hour_entropy.fill_null(0.0),
        gap_cv=gaps.gap_cv,
        median_gap_s=gaps.median_gap_s,
        top_domain_share=domains.top_domain_share.fill_null(0.0),
        domain_coverage=domains.domain_coverage.fill_null(0),
        capability_coverage=domains.capability_coverage.fill_null(0),
        top_domain=domains.top_domain,
        top_template_share=templates.top_template_share.fill_null(0.0),
        early_model_jump=jump.early_model_jump.fill_null(0.0),
        requests_per_day=base.requests / ibis.greatest(base.active_days, 1),
        ip_churn=base.ips / base.requests,
    )


def compute_features(db: duckdb.DuckDBPyConnection) -> None:
    """(Re)build table ``account_features`` from tables ``requests`` and ``ips`` in ``db``.

    The expression is compiled to one DuckDB statement over the connection's own tables, so the
    data never leaves DuckDB and the connection's settings are left as they are.
    """
    sql = _duckdb_sql(table_schema(db, "requests"), table_schema(db, "ips"))
    db.execute(f"CREATE OR REPLACE TABLE account_features AS {sql}")


@functools.cache
def _duckdb_sql(requests: ibis.Schema, ips: ibis.Schema) -> str:
    """The ``account_features`` query over DuckDB tables ``requests`` and ``ips`` of these schemas.

    Two rewrites of Ibis's output keep it as fast as hand-written SQL: the requests-with-networks
    join that the parts share is streamed into each part, not materialised first (DuckDB
    materialises a CTE used more than once: twice the time here); and millisecond differences of
    ``TIMESTAMP WITH TIME ZONE`` values subtract ``epoch_ms`` values instead of calling
    ``date_diff``, which goes through ICU calendars (the same numbers, twice as fast).
    """
    expr = account_features(ibis.table(requests, name="requests"), ibis.table(ips, name="ips"))
    tree = duckdb_compiler.to_sqlglot(expr)
    for cte in tree.find_all(sge.CTE):
        cte.set("materialized", False)
    for diff in list(tree.find_all(sge.DateDiff)):
        if diff.unit is not None and diff.unit.name.upper() == "MILLISECOND":
            epoch_ms = duckdb_compiler.f.epoch_ms
            diff.replace(sge.Sub(this=epoch_ms(diff.this), expression=epoch_ms(diff.expression)))
    return str(tree.sql(dialect=duckdb_compiler.dialect))


def _share(condition: ir.BooleanValue) -> ir.FloatingScalar:
    """Share of rows where ``condition`` holds (unknown counts as not)."""
    # integers: a mean of 1.0/0.0 literals would be a DECIMAL (5 places) on Spark
    return condition.ifelse(1, 0).mean()


def _enriched(requests: ir.Table, ips: ir.Table) -> ir.Table:
    network = ips.select(ip=ips.client_ip, prefix=ips.prefix, asn=ips.asn, kind=ips.kind)
    joined = requests.left_join(network, requests.client_ip == network.ip)
    return joined.select(
        *(requests[name] for name in USED),
        network.prefix,
        network.asn,
        network.kind,
        hod=requests.ts.hour(),
    )


def _base(e: ir.Table) -> ir.Table:
    has_template = e.template != 0
    return e.group_by("account_id").aggregate(
        requests=e.count(),
        active_days=e.ts.date().nunique(),
        first_seen=e.ts.min(),
        last_seen=e.ts.max(),
        avg_input_tokens=e.input_tokens.fill_null(0).mean(),
        avg_output_tokens=e.output_tokens.fill_null(0).mean(),
        single_turn=_share((e.n_user <= 1) & (e.n_assistant == 0)),
        **{name: _share((e.intents & bit) != 0) for name, bit in INTENTS.items()},
        ips=e.client_ip.nunique(),
        prefixes=e.prefix.nunique(),
        asns=e.asn.nunique(),
        residential_share=_share(e.kind == "residential"),
        hosting_share=_share((e.kind == "hosting") | (e.kind == "vpn")),
        mobile_share=_share(e.kind == "mobile"),
        user_agents=e.user_agent.nunique(),
        ja4s=e.tls_ja4.nunique(),
        max_tokens_values=e.max_tokens.nunique(),
        n_gt1_share=_share(e.n > 1),
        logprobs_share=_share(e.logprobs),
        logit_bias_share=_share(e.logit_bias_size > 0),
        temperatures=e.temperature.nunique(),
        content_requests=e.template.count(where=has_template),
        templates=e.template.nunique(where=has_template),
        models=e.model.nunique(),
    )


def _shares(counts: ir.Table) -> ir.Table:
    """``counts`` (account_id, key, c) with each key's share ``p`` of its account's rows."""
    return counts.mutate(p=counts.c / counts.c.sum().over(group_by="account_id"))


def _rhythm(e: ir.Table) -> ir.Table:
    """Entropy of the hour-of-day histogram, 0 (one hour) to 1 (all 24 alike)."""
    h = _shares(e.group_by(["account_id", "hod"]).aggregate(c=e.count()))
    return h.group_by("account_id").aggregate(hour_entropy=-(h.p * h.p.ln()).sum() / math.log(24))


def _gaps(e: ir.Table) -> ir.Table:
    """Regularity of the time between an account's consecutive requests (milliseconds)."""
    previous = e.ts.lag().over(group_by="account_id", order_by="ts")
    g = e.select("account_id", gap=e.ts.delta(previous, unit="millisecond"))
    regular = (g.gap.count() >= 3) & (g.gap.mean() > 0)
    return g.group_by("account_id").aggregate(
        gap_cv=regular.ifelse(g.gap.std(how="pop") / g.gap.mean(), ibis.null("float64")),
        median_gap_s=g.gap.median() / 1000.0,
    )


def _domains(e: ir.Table) -> ir.Table:
    """Concentration on and coverage of capability domains."""
    known = e.filter(e.domain < OTHER_DOMAIN)
    d = _shares(known.group_by(["account_id", "domain"]).aggregate(c=known.count()))
    covered = d.p >= COVERED_SHARE
    return d.group_by("account_id").aggregate(
        top_domain_share=d.p.max(),
        domain_coverage=d.p.count(where=covered),
        capability_coverage=d.p.count(where=covered & (d.domain <= LAST_CAPABILITY)),
        # the domain with most requests; among equals the lowest number, so that every engine
        # picks the same one (keys c * 8 - domain order by count first: domains are 0..6 here)
        top_domain=d.domain.argmax(d.c * (OTHER_DOMAIN + 1) - d.domain),
    )


def _templates(e: ir.Table) -> ir.Table:
    known = e.filter(e.template != 0)
    t = known.group_by(["account_id", "template"]).aggregate(c=known.count())
    return t.group_by("account_id").aggregate(top_template_share=t.c.max() / t.c.sum())


def _model_jump(requests: ir.Table, e: ir.Table) -> ir.Table:
    """1.0 for accounts that moved most of their traffic to a new model within a day."""
    release = requests.group_by("model").aggregate(released=requests.ts.min())
    start = requests.aggregate(t0=requests.ts.min())
    candidates = release.cross_join(start)
    fresh = candidates.filter(candidates.released > candidates.t0 + FRESH_AFTER).select(
        fresh_model=candidates.model, released=candidates.released
    )
    after = e.join(fresh, e.ts >= fresh.released)
    on_it = after.model == after.fresh_model
    use = after.group_by(["account_id", "fresh_model", "released"]).aggregate(
        first_use=after.ts.min(where=on_it),
        share_after=_share(on_it),
    )
    early = (use.first_use <= use.released + EARLY_WITHIN) & (use.share_after >= EARLY_SHARE)
    return use.group_by("account_id").aggregate(
        early_model_jump=early.ifelse(1, 0).max().cast("float64")
    )

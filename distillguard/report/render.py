"""Laying a report out as JSON, Markdown or a printable, self-contained HTML page.

The HTML page embeds its stylesheet (with print rules: A4, no page break inside a campaign's
figures) and its charts as inline SVG, so it can be mailed or printed as one file.

>>> text = render(report, "md")  # doctest: +SKIP
"""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from distillguard.console.charts import bar_chart, daily_chart
from distillguard.errors import InputError
from distillguard.report.methods import label
from distillguard.report.prose import capability_word, percent, plural
from distillguard.report.summary import ACTION_VERBS

FORMATS = ("html", "md", "json")
SUFFIX = {"html": "html", "md": "md", "json": "json"}


def _series(daily: list[list[Any]]) -> list[tuple[date, int]]:
    return [(date.fromisoformat(d), int(n)) for d, n in daily]


def _charts(part: dict[str, Any]) -> dict[str, Markup | None]:
    caps = [(capability_word(k), v) for k, v in part["capabilities"].items()]
    methods = sorted(((label(k), v) for k, v in part["methods"].items()), key=lambda kv: -kv[1])
    return {
        "daily": daily_chart(_series(part["daily"]), width=900, height=200)
        if part["daily"]
        else None,
        "capabilities": bar_chart(caps, label="capabilities") if caps else None,
        "methods": bar_chart(methods, label="methods") if methods else None,
    }


def to_json(report: dict[str, Any]) -> str:
    """The report as indented JSON."""
    return orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() + "\n"


def _md_table(headers: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return [*lines, ""]


def _md_part(part: dict[str, Any], heading: str) -> list[str]:
    lines = [heading, ""]
    lines += [" ".join(part["sentences"]), ""]
    if part.get("detector_summary"):
        lines += [f"> Detector's summary: {part['detector_summary']}", ""]
    facts = [
        ["Accounts", f"{part['accounts']:,}"],
        ["Interactions", f"{part['interactions']:,}"],
        ["Requests in the logs examined", f"{part['requests_in_logs']:,}"],
    ]
    if "first_seen" in part:
        facts.append(["Period", f"{part['first_seen'][:10]} to {part['last_seen'][:10]}"])
    if "confidence" in part:
        facts.append(["Detector confidence", percent(part["confidence"])])
    lines += _md_table(["", ""], facts)
    if part["capabilities"]:
        rows = [[capability_word(k), percent(v)] for k, v in part["capabilities"].items()]
        lines += ["**Capabilities targeted** (share of requests)", ""]
        lines += _md_table(["capability", "share"], rows)
    if part["methods"]:
        rows = [
            [label(k), percent(v)]
            for k, v in sorted(part["methods"].items(), key=lambda kv: -kv[1])
        ]
        lines += ["**Methods** (share of requests showing each)", ""]
        lines += _md_table(["method", "share"], rows)
    infra = part.get("infrastructure") or {}
    if infra:
        lines += ["**Infrastructure**", ""]
        asns = ", ".join(f"AS{a}" for a in infra["asns"]) or "not known"
        ips, prefixes = infra["ips"], infra["prefixes"]
        lines += [
            f"- {ips:,} IP {plural(ips, 'address', 'addresses')} in {prefixes:,} network"
            f" {plural(prefixes, 'prefix', 'prefixes')}; ASNs: {asns}",
        ]
        if infra["top_networks"]:
            lines.append(
                f"- top networks reported by the detector: {', '.join(infra['top_networks'])}"
            )
        for key, name in (("top_prefixes", "prefix"), ("top_ja4", "JA4 fingerprint")):
            for row in infra[key][:5]:
                lines.append(
                    f"- {name} `{row['value']}`: {row['requests']:,} requests from {row['accounts']:,} accounts"
                )
        lines.append("")
    if part["actions"] or part["gateway"]:
        lines += ["**Actions taken**", ""]
        lines += [f"- accounts {ACTION_VERBS.get(a, a)}: {n:,}" for a, n in part["actions"].items()]
        lines += [
            f"- requests answered `{d}` by the gateway: {n:,}" for d, n in part["gateway"].items()
        ]
        lines.append("")
    return lines


def to_markdown(report: dict[str, Any]) -> str:
    """The report as Markdown (tables, no charts)."""
    lines = [f"# {report['title']}", ""]
    window = report["window"]
    lines += [
        f"Findings of {report['findings_generated_at'][:10]} over {window['start'][:10]} to"
        f" {window['end'][:10]}; report written {report['generated_at'][:16].replace('T', ' ')} UTC.",
        "",
    ]
    lines += _md_part(report["overall"], "## Summary")
    for part in report["campaigns"]:
        lines += _md_part(part, f"## Campaign {part['campaign_id']}")
    if report["records_set_aside"]:
        reasons = ", ".join(f"{k}: {v}" for k, v in report["records_set_aside"].items())
        lines += [f"_Records set aside while reading the logs: {reasons}._", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def to_html(report: dict[str, Any]) -> str:
    """The report as one self-contained, printable HTML page."""
    env = Environment(
        loader=PackageLoader("distillguard.report", "templates"),
        autoescape=select_autoescape(["html"]),
    )
    env.filters["percent"] = percent
    env.filters["method"] = label
    env.filters["capability"] = capability_word
    parts = [(p, _charts(p)) for p in report["campaigns"]]
    return env.get_template("report.html").render(
        report=report,
        overall=report["overall"],
        overall_charts=_charts(report["overall"]),
        parts=parts,
        verbs=ACTION_VERBS,
    )


def render(report: dict[str, Any], fmt: str) -> str:
    """The report in ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "json":
        return to_json(report)
    if fmt == "md":
        return to_markdown(report)
    if fmt == "html":
        return to_html(report)
    raise InputError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}")

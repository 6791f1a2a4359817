from __future__ import annotations

import orjson
import pytest

from distillguard.console.dataset import Dataset
from distillguard.errors import InputError
from distillguard.report.render import render
from distillguard.report.summary import build_report


def test_json_round_trips(dataset: Dataset) -> None:
    report = build_report(dataset)
    parsed = orjson.loads(render(report, "json"))
    assert parsed["schema"] == "dg.report.v1"
    assert parsed["overall"]["interactions"] == 200
    assert [c["campaign_id"] for c in parsed["campaigns"]] == ["C-hydra", "C-probe"]


def test_markdown_has_the_numbers(dataset: Dataset) -> None:
    text = render(build_report(dataset), "md")
    assert text.startswith("# ")
    assert "## Campaign C-hydra" in text and "## Campaign C-probe" in text
    assert "| Interactions | 180 |" in text
    assert "| chain-of-thought elicitation | 67% |" in text
    assert "`t13d1516h2_8daaf6152771_b186095e22b6`: 180 requests from 6 accounts" in text
    assert "1 network prefix;" in text  # C-probe: singular


def test_html_is_self_contained_and_printable(dataset: Dataset) -> None:
    html = render(build_report(dataset), "html")
    assert html.count('data-chart="daily"') == 3  # overall + two campaigns
    assert 'data-chart="bars"' in html
    assert "@media print" in html and "@page" in html
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "Campaign C-hydra: 6 accounts, 180 interactions between 1 and 10 April 2026" in html


def test_unknown_format(dataset: Dataset) -> None:
    with pytest.raises(InputError):
        render(build_report(dataset), "pdf")

from __future__ import annotations

from datetime import date

from distillguard.console.charts import bar_chart, daily_chart, human


def test_daily_chart_fills_gaps() -> None:
    svg = daily_chart([(date(2026, 4, 1), 5), (date(2026, 4, 4), 9)])
    assert 'data-points="4"' in svg
    assert svg.count("<rect") == 4
    assert "2026-04-04: 9" in svg


def test_empty_daily_chart_says_so() -> None:
    assert "no requests" in daily_chart([])


def test_bar_chart_escapes_labels() -> None:
    svg = bar_chart([("<script>", 0.5), ("coding", 0.25)])
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "50%" in svg and 'data-bars="2"' in svg


def test_human_numbers() -> None:
    assert [human(950), human(1500), human(12_000), human(3_400_000)] == [
        "950",
        "1.5k",
        "12k",
        "3.4M",
    ]

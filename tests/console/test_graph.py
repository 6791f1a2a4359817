from __future__ import annotations

from distillguard.console.graph import layout, render


def test_layout_is_deterministic_and_bipartite() -> None:
    accounts = ["a", "b", "c"]
    edges = [
        ("a", "ja4", "J"),
        ("b", "ja4", "J"),
        ("c", "ja4", "J"),
        ("a", "payment", "P"),
        ("b", "payment", "P"),
    ]
    first = layout(accounts, edges, total_accounts=3)
    second = layout(accounts, edges, total_accounts=3)
    assert first == second
    assert first.links == [("ja4", "J"), ("payment", "P")]
    assert len(first.edges) == 5 and not first.sampled
    assert all(0 <= x <= 1 and 0 <= y <= 1 for x, y in first.positions)


def test_links_are_capped_by_degree() -> None:
    edges = [(f"a{i}", "prefix", f"10.0.{j}.0/24") for i in range(10) for j in range(i % 5)]
    drawing = layout([f"a{i}" for i in range(10)], edges, total_accounts=50, max_links=2)
    assert drawing.links == [("prefix", "10.0.0.0/24"), ("prefix", "10.0.1.0/24")]
    assert drawing.sampled


def test_render_links_accounts_and_escapes() -> None:
    svg = render(layout(["<x>", "y"], [("<x>", "ja4", "J"), ("y", "ja4", "J")], total_accounts=2))
    assert 'data-accounts="2"' in svg and "/accounts/&lt;x&gt;" in svg
    assert "no shared infrastructure" in render(layout([], [], total_accounts=0))

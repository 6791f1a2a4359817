"""The account graph of a campaign: accounts and the shared infrastructure that links them.

The graph is bipartite: round nodes are accounts, square nodes are the things they share (a
network prefix, a JA4 TLS fingerprint, a payment fingerprint, a sign-up prefix). An analyst sees
at once that six accounts sit behind one /24 and one TLS stack. Big campaigns are drawn from a
sample of accounts (``console.loader.GRAPH_ACCOUNTS``) and the most shared values (:data:`MAX_LINKS`); the
layout is a Fruchterman-Reingold layout computed by igraph from a fixed start, so the same
campaign is always drawn the same way, and cached per campaign.
"""

from __future__ import annotations

import math
import random
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import igraph
from markupsafe import Markup, escape

MAX_LINKS = 60
LABEL_LINKS = 24
LAYOUT_SEED = 7
LAYOUT_ITERATIONS = 150
_RNG_LOCK = threading.Lock()
KIND_COLORS = {
    "prefix": "#3867d6",
    "ja4": "#8854d0",
    "payment": "#eb3b5a",
    "signup": "#fa8231",
}
KIND_LABELS = {
    "prefix": "network prefix",
    "ja4": "JA4 TLS fingerprint",
    "payment": "payment fingerprint",
    "signup": "sign-up prefix",
}


@dataclass(frozen=True)
class Drawing:
    """A laid-out graph: node positions in [0, 1]^2 and edges as node index pairs."""

    accounts: list[str]
    links: list[tuple[str, str]]
    positions: list[tuple[float, float]]
    edges: list[tuple[int, int]]
    sampled: bool


def _fruchterman_reingold(
    n: int, pairs: list[tuple[int, int]], start: list[tuple[float, float]]
) -> list[tuple[float, float]]:
    # igraph's layout draws random numbers from a global generator; a private, seeded one
    # (under a lock, since it is global) makes the drawing the same on every run.
    with _RNG_LOCK:
        igraph.set_random_number_generator(random.Random(LAYOUT_SEED))
        try:
            coords = igraph.Graph(n=n, edges=pairs).layout_fruchterman_reingold(
                seed=start, niter=LAYOUT_ITERATIONS
            )
        finally:
            igraph.set_random_number_generator(random)
    return [(float(x), float(y)) for x, y in coords.coords]


def layout(
    accounts: Sequence[str],
    edges: Sequence[tuple[str, str, str]],
    *,
    total_accounts: int,
    max_links: int = MAX_LINKS,
) -> Drawing:
    """Lay out accounts and their most shared ``(kind, value)`` links."""
    degree = Counter((kind, value) for _, kind, value in edges)
    kept = [link for link, _ in sorted(degree.items(), key=lambda kv: (-kv[1], kv[0]))[:max_links]]
    index = {account: i for i, account in enumerate(accounts)}
    link_index = {link: len(accounts) + i for i, link in enumerate(kept)}
    pairs = [
        (index[a], link_index[(k, v)]) for a, k, v in edges if a in index and (k, v) in link_index
    ]
    n = len(accounts) + len(kept)
    if n == 0:
        return Drawing([], [], [], [], False)
    start = [(math.cos(2 * math.pi * i / n), math.sin(2 * math.pi * i / n)) for i in range(n)]
    coords = _fruchterman_reingold(n, pairs, start) if pairs else start
    xs = [c[0] for c in coords]
    ys = [c[1] for c in coords]
    span_x = (max(xs) - min(xs)) or 1.0
    span_y = (max(ys) - min(ys)) or 1.0
    positions = [
        ((x - min(xs)) / span_x, (y - min(ys)) / span_y) for x, y in zip(xs, ys, strict=True)
    ]
    return Drawing(list(accounts), kept, positions, pairs, total_accounts > len(accounts))


def render(
    drawing: Drawing, *, width: int = 1240, height: int = 560, link_base: str = ""
) -> Markup:
    """The drawing as inline SVG; account nodes link to their account pages."""
    pad = 22
    parts = [
        f'<svg class="graph" data-graph="accounts" data-accounts="{len(drawing.accounts)}"'
        f' data-links="{len(drawing.links)}" data-edges="{len(drawing.edges)}" role="img"'
        f' viewBox="0 0 {width} {height}" width="{width}" height="{height}"'
        ' xmlns="http://www.w3.org/2000/svg"><title>accounts linked by shared infrastructure</title>'
    ]
    if not drawing.positions:
        parts.append(
            f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" class="muted">'
            "no shared infrastructure found</text></svg>"
        )
        return Markup("".join(parts))
    points = [
        (pad + x * (width - 2 * pad), pad + y * (height - 2 * pad)) for x, y in drawing.positions
    ]
    parts.append('<g class="edges">')
    for a, b in drawing.edges:
        (x1, y1), (x2, y2) = points[a], points[b]
        parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}"/>')
    parts.append('</g><g class="nodes">')
    small = len(drawing.accounts) > 80
    radius = 3.5 if small else 6
    for i, account in enumerate(drawing.accounts):
        x, y = points[i]
        name = escape(account)
        parts.append(
            f'<a href="{escape(link_base)}/accounts/{name}"><circle class="account" cx="{x:.1f}"'
            f' cy="{y:.1f}" r="{radius}"><title>account {name}</title></circle></a>'
        )
    offset = len(drawing.accounts)
    labelled = len(drawing.links) <= LABEL_LINKS
    for j, (kind, value) in enumerate(drawing.links):
        x, y = points[offset + j]
        color = KIND_COLORS.get(kind, "#4b6584")
        text = escape(f"{KIND_LABELS.get(kind, kind)}: {value}")
        parts.append(
            f'<rect class="link" x="{x - 6:.1f}" y="{y - 6:.1f}" width="12" height="12"'
            f' fill="{color}"><title>{text}</title></rect>'
        )
        if labelled:
            short = value if len(value) <= 22 else value[:20] + "…"
            anchor = "end" if x > width * 0.75 else "start"
            dx = -9 if anchor == "end" else 9
            parts.append(
                f'<text class="node-label" x="{x + dx:.1f}" y="{y + 4:.1f}"'
                f' text-anchor="{anchor}">{escape(short)}</text>'
            )
    parts.append("</g>")
    legend_y = height - 8
    x = 8.0
    for kind, color in KIND_COLORS.items():
        parts.append(
            f'<rect x="{x}" y="{legend_y - 9}" width="9" height="9" fill="{color}"/>'
            f'<text x="{x + 13}" y="{legend_y}" class="legend">{KIND_LABELS[kind]}</text>'
        )
        x += 28 + 6.2 * len(KIND_LABELS[kind])
    parts.append("</svg>")
    return Markup("".join(parts))

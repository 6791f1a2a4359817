"""Communities of linked accounts, found with Leiden (``igraph`` + ``leidenalg``).

The graph is the aggregated account graph (table ``edges``), never the request log, so it fits
in memory even for the full-scale scenario. Leiden with the Constant Potts Model keeps only
groups whose internal edge density beats ``resolution``, which is what separates a campaign
(many accounts sharing many rare things) from a chance pair.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from distillguard.errors import ConfigurationError


def _merged(
    membership: list[int], src: list[int], dst: list[int], weights: list[float], ratio: float
) -> list[int]:
    """Merge communities whose mutual links weigh at least ``ratio`` of the lighter one's
    internal links: CPM can cut a sparse but large campaign (low-and-slow traffic, few shared
    keys per pair) into pieces that are still far more tied to each other than to anyone else.
    """
    internal: dict[int, float] = {}
    between: dict[tuple[int, int], float] = {}
    for a, b, w in zip(src, dst, weights, strict=True):
        ca, cb = membership[a], membership[b]
        if ca == cb:
            internal[ca] = internal.get(ca, 0.0) + w
        else:
            key = (min(ca, cb), max(ca, cb))
            between[key] = between.get(key, 0.0) + w
    parent = {c: c for c in set(membership)}

    def root(c: int) -> int:
        while parent[c] != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    for (ca, cb), w in sorted(between.items(), key=lambda kv: -kv[1]):
        lighter = min(internal.get(ca, 0.0), internal.get(cb, 0.0))
        if lighter > 0 and w >= ratio * lighter:
            parent[root(ca)] = root(cb)
    return [root(c) for c in membership]


def find_communities(
    db: duckdb.DuckDBPyConnection,
    *,
    resolution: float,
    min_size: int,
    merge_ratio: float = 0.2,
    seed: int = 7,
) -> None:
    """(Re)build table ``communities`` (account_id, community, degree) from ``edges``."""
    try:
        import igraph
        import leidenalg
    except ImportError as exc:  # pragma: no cover - the graph extra is a declared dependency
        raise ConfigurationError(
            "campaign linking needs the 'graph' extra: pip install 'distillguard[graph]'"
        ) from exc
    edges = db.sql("SELECT src, dst, weight FROM edges ORDER BY src, dst").to_arrow_table()
    names: list[str] = []
    members: list[int] = []
    degrees: list[float] = []
    if edges.num_rows:
        src = edges.column("src").to_pylist()
        dst = edges.column("dst").to_pylist()
        weights = edges.column("weight").to_pylist()
        index: dict[str, int] = {}
        for account in (*src, *dst):
            if account not in index:
                index[account] = len(index)
        pairs = [(index[a], index[b]) for a, b in zip(src, dst, strict=True)]
        graph = igraph.Graph(n=len(index), edges=pairs, edge_attrs={"weight": weights})
        partition = leidenalg.find_partition(
            graph,
            leidenalg.CPMVertexPartition,
            weights="weight",
            resolution_parameter=resolution,
            seed=seed,
            n_iterations=-1,
        )
        strength = graph.strength(weights="weight")
        names = list(index)
        membership = _merged(
            list(partition.membership),
            [a for a, _ in pairs],
            [b for _, b in pairs],
            weights,
            merge_ratio,
        )
        sizes: dict[int, int] = {}
        for community in membership:
            sizes[community] = sizes.get(community, 0) + 1
        keep = [i for i, c in enumerate(membership) if sizes[c] >= min_size]
        names = [names[i] for i in keep]
        members = [membership[i] for i in keep]
        degrees = [float(strength[i]) for i in keep]
    table = pa.table(
        {
            "account_id": pa.array(names, pa.string()),
            "community": pa.array(members, pa.int64()),
            "degree": pa.array(degrees, pa.float64()),
        }
    )
    db.register("community_view", table)
    try:
        db.execute("CREATE OR REPLACE TABLE communities AS SELECT * FROM community_view")
    finally:
        db.unregister("community_view")

"""Where the per-account features and the linking step run: DuckDB, embedded, or Apache Spark.

The features and the account graph's evidence, pairs and edges are Ibis expressions
(:func:`distillguard.detect.behaviour.account_features`,
:func:`distillguard.detect.linking.evidence.evidence`,
:func:`distillguard.detect.linking.edges.pair_kinds`,
:func:`distillguard.detect.linking.edges.edges`); DuckDB runs them inside ``distillguard detect``
(:func:`~distillguard.detect.behaviour.compute_features`,
:func:`~distillguard.detect.linking.evidence.build_evidence`,
:func:`~distillguard.detect.linking.edges.build_edges`), compiled to SQL over the store's own
tables by :mod:`~distillguard.detect.engine.sql`. :mod:`~distillguard.detect.engine.spark`
runs the very same definitions on Apache Spark when the requests no longer fit one machine
(optional extra ``distillguard[spark]``).
"""

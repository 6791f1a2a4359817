"""Engines other than the embedded default for the per-account features.

The features are Ibis expressions (:func:`distillguard.detect.behaviour.account_features`);
DuckDB runs them inside ``distillguard detect`` (:func:`~distillguard.detect.behaviour.compute_features`).
:mod:`~distillguard.detect.engine.spark` runs the very same definitions on Apache Spark when
the requests no longer fit one machine (optional extra ``distillguard[spark]``).
"""

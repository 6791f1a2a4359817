"""Detection of extraction campaigns in dg.request.v1 logs.

Public entry points:

- :func:`distillguard.detect.features.featurize.featurize` — per-request features for the
  gateway (a few microseconds): template fingerprint, system-prompt hash, intents
  (``cot_elicitation``, ``system_prompt_extraction``, ``rubric_grading``,
  ``synthetic_dataset``) and capability domain.
- :class:`distillguard.detect.features.featurize.BatchFeaturizer` — the same over
  ``pyarrow`` batches, plus MinHash LSH keys.
- :func:`distillguard.detect.pipeline.run_detection` with
  :class:`~distillguard.detect.pipeline.DetectOptions` and
  :func:`~distillguard.detect.config.load_config` — a whole run, as ``distillguard detect``.

Layout: ``features/`` (one algorithm per module), ``enrich/`` (IP networks, ASN database,
e-mail domains), ``store`` (DuckDB state and incremental ingest), ``behaviour`` (per-account
features as Ibis expressions, run by DuckDB), ``engine/`` (the same features and linking on
Spark), ``signup`` (sign-up traces), ``scoring`` (own signals and reasons), ``linking/``
(evidence keys and rarity-weighted edges as Ibis expressions, Leiden communities),
``campaigns``, ``pipeline``; thresholds and weights in ``defaults.toml``.
"""

"""Indicator sharing with other providers: STIX 2.1 export and partner watchlists.

- :func:`~distillguard.intel.export.export_bundle`: campaigns as a STIX bundle (campaigns,
  indicators for addresses, prefixes, JA4 and prompt templates, *indicates* relationships, TLP).
- :func:`~distillguard.intel.importer.import_bundle`: a partner's bundle as a
  :class:`~distillguard.intel.watchlist.Watchlist` (``match_ip``, ``match_ja4``,
  ``match_template``).
- :func:`~distillguard.intel.signal.watchlist_reasons`: the per-account ``partner_watchlist``
  reason detection can add.

``stix2`` is an optional extra (``pip install distillguard[intel]``), imported only when a bundle
is built or read.
"""

"""Organizations, accounts, API keys, usage tiers and verification (the control plane).

Public names (import them from their modules; this package imports nothing, so it stays cheap):

* :class:`distillguard.controlplane.store.ControlPlaneStore` — the repository/service layer;
  ``ControlPlaneStore.open(url)`` opens SQLite or PostgreSQL (``store.tiers`` edits tiers).
* :class:`distillguard.controlplane.auth.CachedAuthenticator` — the gateway's
  :class:`~distillguard.controlplane.principal.Authenticator` over an in-memory snapshot;
  ``CachedAuthenticator.from_url(url)``, ``run_refresh(interval_s)``.
* :func:`distillguard.controlplane.adminapi.create_admin_app` — the admin HTTP API (FastAPI).
* :func:`distillguard.controlplane.database.resolve_database_url` — ``--db`` /
  ``$DG_DATABASE_URL`` / ``sqlite:///.dg/distillguard.db``.
* :func:`distillguard.controlplane.migrator.upgrade` — schema migrations (Alembic, shipped inside).
* :func:`distillguard.controlplane.tiers.default_tiers` — the seeded tier table.
"""

from __future__ import annotations

"""The investigator's web console: campaigns, accounts, actions and search over one dataset.

Its data layer (:class:`~distillguard.console.dataset.Dataset`, findings, accounts and request
logs loaded into DuckDB) is shared with :mod:`distillguard.report` and :mod:`distillguard.intel`.
The application is built by :func:`~distillguard.console.app.create_app` and served by
``distillguard console``; it runs in its own process, never inside the gateway.
"""

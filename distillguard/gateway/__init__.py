"""The gateway: authentication, tiers, rate limits and request logs in front of an LLM API.

Public names:

* :func:`distillguard.gateway.assembly.build_gateway` — a ready ASGI app from
  :class:`distillguard.config.Settings` (what ``distillguard serve`` runs);
* :class:`distillguard.gateway.app.Gateway` — the ASGI app, backends passed in;
* :class:`distillguard.gateway.server.BackgroundServer` — any ASGI app on a free loopback port
  in a thread (demo, tests); :func:`distillguard.gateway.server.run_uvicorn` for the CLI;
* :func:`distillguard.gateway.errors.error_response` — the one place where a
  :class:`~distillguard.errors.GatewayError` becomes an OpenAI- or Anthropic-format response.

Modules: ``clientinfo`` (trusted proxies, X-Forwarded-For, JA4), ``routes``, ``payload``
(body checks, messages normalised for the log), ``admission`` (limits), ``limitheaders``
(x-ratelimit-* / anthropic-ratelimit-*, retry advice), ``upstream`` (HTTP/1.1 pool),
``proxy`` (streams, usage, disconnects), ``usage``, ``exchange`` (the dg.request.v1 record),
``metrics`` (Prometheus), ``logconfig`` (JSON logs).
"""

from __future__ import annotations

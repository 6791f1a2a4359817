"""The gateway: authentication, tiers, rate limits and request logs in front of an LLM API.

Build one from settings with :func:`distillguard.gateway.assembly.build_gateway`; the ASGI app is
:class:`distillguard.gateway.app.Gateway`.
"""

from __future__ import annotations

"""distillguard: protect an LLM API against industrial-scale distillation.

The package is split by domain: ``gateway`` (the ASGI proxy in front of an LLM server),
``ratelimit`` (admission control), ``controlplane`` (accounts, keys, tiers), ``logs``
(request-log writers and readers for the dg.* formats), ``simulate`` (labelled traffic),
``evaluate`` (metrics against labels) and ``detect`` (finding extraction campaigns).
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]

"""Graduated, reversible, audited enforcement: policy, store, audit log, output controls.

The pieces, each in its own module:

- :mod:`~distillguard.enforce.actions`: what can be done to a subject (monitor, throttle,
  degrade, challenge, suspend) and the per-request :class:`Decision`.
- :mod:`~distillguard.enforce.policy`: a TOML policy that maps dg.findings.v1 entries to actions.
- :mod:`~distillguard.enforce.store`: the active action per subject, read on every request from
  an in-process snapshot (memory, or Redis kept in sync by pub/sub).
- :mod:`~distillguard.enforce.audit`: the append-only log of every change; replaying it rebuilds
  the state.
- :mod:`~distillguard.enforce.enforcer`: applies actions and reinstatements to a store and an
  audit log together.
- :mod:`~distillguard.enforce.output`: request and response transforms (logprobs, logit_bias,
  ``n``, ``max_tokens``, reasoning exposure), streamed responses included.
- :mod:`~distillguard.enforce.middleware`: a plain ASGI middleware that puts it together.
- :mod:`~distillguard.enforce.signup` and :mod:`~distillguard.enforce.verification`: sign-up risk
  and identity verification.
"""

from __future__ import annotations

from distillguard.enforce.actions import (
    Action,
    ActionKind,
    Challenge,
    Decision,
    Throttle,
    parse_subject,
)
from distillguard.enforce.audit import open_audit, replay
from distillguard.enforce.enforcer import Enforcer
from distillguard.enforce.middleware import Caller, EnforcementMiddleware
from distillguard.enforce.output import (
    OutputControls,
    Reasoning,
    default_controls,
    restrict_request,
)
from distillguard.enforce.policy import Policy, apply_findings, load_policy, plan_findings
from distillguard.enforce.responses import StreamFilter, filter_response
from distillguard.enforce.store import EnforcementStore
from distillguard.enforce.store import from_url as open_store

__all__ = [
    "Action",
    "ActionKind",
    "Caller",
    "Challenge",
    "Decision",
    "EnforcementMiddleware",
    "EnforcementStore",
    "Enforcer",
    "OutputControls",
    "Policy",
    "Reasoning",
    "StreamFilter",
    "Throttle",
    "apply_findings",
    "default_controls",
    "filter_response",
    "load_policy",
    "open_audit",
    "open_store",
    "parse_subject",
    "plan_findings",
    "replay",
    "restrict_request",
]

"""One request/response exchange as the gateway sees it, and its dg.request.v1 record.

The gateway fills an :class:`Exchange` as the request moves through authentication, admission
and proxying; whatever the outcome (a 401, a 429, a dead upstream, a client that went away),
:meth:`Exchange.record` turns it into exactly one request-log record.
"""

from __future__ import annotations

from typing import Any

from distillguard.controlplane.principal import Principal
from distillguard.gateway.payload import Payload
from distillguard.gateway.usage import UsageMeter
from distillguard.ratelimit.base import Lease

ANONYMOUS = "anonymous"
NO_KEY = "none"
CLIENT_CLOSED = 499  # nginx's "client closed request": the client left before the answer


class Exchange:
    """Mutable per-request state; plain attributes to keep the hot path cheap."""

    __slots__ = (
        "arrived",
        "client_ip",
        "decision",
        "endpoint",
        "finished",
        "ja4",
        "key_id",
        "latency_ms",
        "lease",
        "limit_headers",
        "meter",
        "path",
        "payload",
        "principal",
        "request_id",
        "reserved_input",
        "reserved_output",
        "retry_count",
        "started",
        "status",
        "upstream_ok",
        "user_agent",
    )

    def __init__(
        self,
        request_id: str,
        arrived: float,
        endpoint: str,
        path: str,
        client_ip: str,
        ja4: str | None,
        user_agent: str | None,
        retry_count: int | None,
    ) -> None:
        self.request_id = request_id
        self.arrived = arrived
        self.endpoint = endpoint
        self.path = path
        self.client_ip = client_ip
        self.ja4 = ja4
        self.user_agent = user_agent
        self.retry_count = retry_count
        self.principal: Principal | None = None
        self.key_id: str | None = None
        self.payload: Payload | None = None
        self.meter: UsageMeter | None = None
        self.status = 500
        self.decision: str | None = None
        self.started = False  # response headers sent
        self.finished = False  # last body chunk about to be sent
        self.upstream_ok = False
        self.reserved_input = 0  # input tokens charged at admission (the estimate)
        self.reserved_output = 0  # output tokens reserved at admission
        self.latency_ms: float | None = None
        self.limit_headers: dict[str, str] = {}
        self.lease: Lease | None = None

    def actual_usage(self) -> dict[str, int]:
        """Real token counts to settle the lease with (reservations corrected).

        Nothing is charged for an answer the upstream did not give; where the answer carried
        no usage, what was charged at admission stands.
        """
        meter = self.meter
        if not self.upstream_ok:
            return {"itpm": 0, "otpm": 0, "daily_tokens": 0}
        inp = meter.input_tokens if meter is not None else None
        out = meter.output_tokens if meter is not None else None
        inp = self.reserved_input if inp is None else inp
        out = self.reserved_output if out is None else out
        return {"itpm": inp, "otpm": out, "daily_tokens": inp + out}

    def record(self) -> dict[str, Any]:
        """The dg.request.v1 record (``ts`` still an epoch float; the writer formats it)."""
        principal, payload, meter = self.principal, self.payload, self.meter
        record: dict[str, Any] = {
            "ts": self.arrived,
            "request_id": self.request_id,
            "account_id": principal.account_id if principal is not None else ANONYMOUS,
            "org_id": principal.org_id if principal is not None else None,
            "api_key_id": principal.key_id if principal is not None else self.key_id or NO_KEY,
            "client_ip": self.client_ip,
            "user_agent": self.user_agent,
            "tls_ja4": self.ja4,
            "retry_count": self.retry_count,
            "endpoint": self.endpoint,
            "model": payload.model if payload is not None else "",
            "messages": payload.messages if payload is not None else [],
            "status": self.status,
            "input_tokens": None,
            "output_tokens": None,
            "reasoning_tokens": None,
            "latency_ms": self.latency_ms,
            "response_text": None,
            "decision": self.decision,
            "path": self.path,
        }
        if payload is not None:
            record["params"] = payload.params
        if meter is not None:
            record["input_tokens"] = meter.input_tokens
            record["output_tokens"] = meter.output_tokens
            record["reasoning_tokens"] = meter.reasoning_tokens
            if self.upstream_ok:
                record["response_text"] = meter.text
        return record

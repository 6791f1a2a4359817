"""The API routes the gateway serves, and which provider's conventions each one follows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from distillguard.gateway.errors import Provider

Kind = Literal["chat", "completions", "responses", "messages", "count_tokens", "models"]


@dataclass(frozen=True, slots=True)
class Route:
    """One API route.

    ``endpoint`` is the dg.request.v1 endpoint the request is logged under (the closest of the
    four the format knows; the exact path is logged as ``path`` too). ``generates`` says whether
    the route produces output tokens (and so reserves ``max_tokens``).
    """

    path: str
    provider: Provider
    kind: Kind
    endpoint: str
    method: str = "POST"
    generates: bool = True

    @property
    def name(self) -> str:
        """A short label for metrics."""
        return f"{self.provider}.{self.kind}"


ROUTES: dict[str, Route] = {
    route.path: route
    for route in (
        Route("/v1/chat/completions", "openai", "chat", "openai.chat.completions"),
        Route("/v1/completions", "openai", "completions", "openai.completions"),
        Route("/v1/responses", "openai", "responses", "openai.responses"),
        Route("/v1/messages", "anthropic", "messages", "anthropic.messages"),
        Route(
            "/v1/messages/count_tokens",
            "anthropic",
            "count_tokens",
            "anthropic.messages",
            generates=False,
        ),
        Route("/v1/models", "openai", "models", "openai.chat.completions", "GET", False),
    )
}
ANTHROPIC_MODELS = Route("/v1/models", "anthropic", "models", "anthropic.messages", "GET", False)


def provider_of(path: str, anthropic_headers: bool) -> Provider:
    """Guess the provider of a path that is not a known route (for the 404's format)."""
    if anthropic_headers or path.startswith("/v1/messages"):
        return "anthropic"
    return "openai"


def find_route(path: str, anthropic_headers: bool) -> Route | None:
    """The route for ``path``; ``/v1/models`` follows the caller's provider."""
    route = ROUTES.get(path)
    if route is None and path.startswith("/v1/models/"):
        route = ROUTES["/v1/models"]
    if route is not None and route.kind == "models" and anthropic_headers:
        return ANTHROPIC_MODELS
    return route

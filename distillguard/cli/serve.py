"""``distillguard serve``: run the gateway in front of an upstream LLM server."""

from __future__ import annotations

import click

from distillguard.config import load_settings
from distillguard.logs.segments import FORMATS


@click.command("serve")
@click.option(
    "--upstream", "upstream_url", help="Base URL of the LLM server, e.g. http://127.0.0.1:9000."
)
@click.option(
    "--upstream-key", help="The gateway's own credential for the upstream (never the client's)."
)
@click.option("--db", "db_url", help="Control-plane database URL (sqlite:///… or postgresql://…).")
@click.option(
    "--limiter", "limiter_url", help="Rate-limit storage: memory:// or redis://host:port/db."
)
@click.option(
    "--limiter-failure",
    type=click.Choice(["open", "closed"]),
    help="When Redis is unreachable: fall back to local limits (open) or refuse (closed).",
)
@click.option("--log-dir", help="Directory of request-log segments.")
@click.option("--log-format", type=click.Choice(FORMATS), help="Request-log segment format.")
@click.option("--log-content", help="full, none or truncated:N (characters kept per text).")
@click.option(
    "--trusted-proxy",
    "trusted_proxies",
    multiple=True,
    help="CIDR of a proxy whose X-Forwarded-For and JA4 header are believed (repeatable).",
)
@click.option("--ja4-header", help="Header carrying the JA4 fingerprint from the TLS terminator.")
@click.option("--max-body-bytes", type=int, help="Largest request body accepted (413 above).")
@click.option(
    "--upstream-timeout", "upstream_read_timeout_s", type=float, help="Upstream read timeout (s)."
)
@click.option(
    "--default-max-tokens", type=int, help="Output tokens reserved when a request sets none."
)
@click.option("--host")
@click.option("--port", type=int)
@click.option("--admin-token", help="Enable the admin API under /admin with this bearer token.")
@click.option(
    "--enforcement",
    "enforcement_url",
    help="Apply enforcement actions from this store (memory://, redis://…; see distillguard enforce).",
)
@click.option(
    "--body-timeout", "body_timeout_s", type=float, help="Seconds to receive a request body."
)
@click.option("--max-in-flight", type=int, help="Requests in progress before new ones get a 503.")
@click.option(
    "--config", "config_path", type=click.Path(dir_okay=False), help="TOML settings file."
)
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]))
def serve(config_path: str | None, **options: object) -> None:
    """Run the gateway (settings: options > DG_* environment > --config TOML > defaults)."""
    from distillguard.gateway.assembly import build_gateway
    from distillguard.gateway.server import run_uvicorn

    settings = load_settings(options, toml_path=config_path)
    gateway = build_gateway(settings)
    click.echo(
        f"distillguard gateway on http://{settings.host}:{settings.port} -> "
        f"{settings.upstream_url} (limiter {settings.limiter_url}, logs {settings.log_dir})",
        err=True,
    )
    run_uvicorn(gateway, host=settings.host, port=settings.port, log_level=settings.log_level)

"""``distillguard mock-upstream``: run the deterministic mock LLM server."""

from __future__ import annotations

import click

from distillguard.gateway.server import run_uvicorn
from distillguard.mockllm import MockLLM


@click.command("mock-upstream")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=9000, show_default=True, type=int)
@click.option("--latency-ms", default=0.0, show_default=True, help="Delay before each answer.")
@click.option("--chunk-delay-ms", default=0.0, show_default=True, help="Delay between events.")
@click.option("--words", default=12, show_default=True, help="Answer length in words.")
@click.option("--error-rate", default=0.0, show_default=True, help="Share of injected errors.")
@click.option("--error-status", default=500, show_default=True, help="Status of injected errors.")
@click.option("--require-key", default=None, help="Refuse requests without this upstream key.")
@click.option("--seed", default=0, show_default=True, help="Seed of the error injection.")
def mock_upstream(
    host: str,
    port: int,
    latency_ms: float,
    chunk_delay_ms: float,
    words: int,
    error_rate: float,
    error_status: int,
    require_key: str | None,
    seed: int,
) -> None:
    """Serve a deterministic OpenAI/Anthropic-compatible API (for demos, tests, benchmarks).

    Per request, a model suffix such as "mock-1@latency=200,error=529" or an x-mock-behavior
    header changes the answer (error=, latency=, chunk_delay=, hang, break, words=).
    """
    if not 0.0 <= error_rate <= 1.0:
        raise click.BadParameter("must be between 0 and 1", param_hint="--error-rate")
    app = MockLLM(
        latency_ms=latency_ms,
        chunk_delay_ms=chunk_delay_ms,
        words=words,
        error_rate=error_rate,
        error_status=error_status,
        require_key=require_key,
        seed=seed,
    )
    click.echo(f"mock upstream on http://{host}:{port}", err=True)
    run_uvicorn(app, host=host, port=port)

"""Running an ASGI app under uvicorn the way distillguard wants it: uvloop, httptools, no
access log (the request log records every request), JSON logs."""

from __future__ import annotations

from typing import Any

from distillguard.gateway.logconfig import configure_logging


def run_uvicorn(
    app: Any, *, host: str, port: int, log_level: str = "info", backlog: int = 4096
) -> None:
    """Serve ``app`` until SIGINT/SIGTERM (uvicorn then runs the lifespan shutdown)."""
    import uvicorn

    log_config = configure_logging(log_level)
    uvicorn.run(
        app,
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        proxy_headers=False,  # the gateway resolves X-Forwarded-For itself, trusting only its list
        log_config=log_config,
        log_level=log_level,
        backlog=backlog,
        timeout_keep_alive=30,
        server_header=False,
        date_header=False,
    )

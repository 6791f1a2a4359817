"""Running an ASGI app under uvicorn the way distillguard wants it: uvloop, httptools, no
access log (the request log records every request), JSON logs."""

from __future__ import annotations

import gc
import threading
import time
from typing import Any

from distillguard.gateway.logconfig import configure_logging


def run_uvicorn(
    app: Any, *, host: str, port: int, log_level: str = "info", backlog: int = 4096
) -> None:
    """Serve ``app`` until SIGINT/SIGTERM (uvicorn then runs the lifespan shutdown)."""
    import uvicorn

    log_config = configure_logging(log_level)
    # Everything loaded so far lives as long as the process: keep it out of the collector's
    # way, and collect the young generation less often (the hot path allocates a lot of
    # short-lived objects, which are freed by reference counting anyway).
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
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


class BackgroundServer:
    """An ASGI app under uvicorn in a daemon thread on a free loopback port (demo, tests).

    Example::

        with BackgroundServer(MockLLM()) as mock:
            print(mock.url)
    """

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 0) -> None:
        import socket

        import uvicorn

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.port: int = self.sock.getsockname()[1]
        self.url = f"http://{host}:{self.port}"
        config = uvicorn.Config(
            app,
            loop="asyncio",
            http="httptools",
            lifespan="on",
            access_log=False,
            proxy_headers=False,
            log_config=None,
            log_level="warning",
            timeout_graceful_shutdown=5,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self) -> BackgroundServer:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError(f"the server on port {self.port} did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Shut down gracefully (runs the app's lifespan shutdown) and wait."""
        self.server.should_exit = True
        self.thread.join(30)
        self.sock.close()

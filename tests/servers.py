"""Real Redis and PostgreSQL servers for the test suite.

A server already reachable on the standard local port (or named by ``DG_TEST_REDIS_URL`` /
``DG_TEST_POSTGRES_URL``) is used as it is; otherwise a throwaway server is started from the
binaries on this machine in a temporary directory and stopped at the end of the session.
``.ci/run`` installs the binaries when they are missing.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, proc: subprocess.Popen[bytes], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _reachable("127.0.0.1", port):
            return
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} before listening")
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on port {port} within {timeout} s")


@contextmanager
def redis_server() -> Iterator[str]:
    """Yield a redis:// URL of a reachable server (database 15 is used by tests)."""
    env_url = os.environ.get("DG_TEST_REDIS_URL")
    if env_url:
        yield env_url
        return
    if _reachable("127.0.0.1", 6379):
        yield "redis://127.0.0.1:6379/15"
        return
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError(
            "no Redis reachable and no redis-server binary; run .ci/run to install it"
        )
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="dg-redis-") as tmp:
        proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                tmp,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_port(port, proc, "redis-server")
            yield f"redis://127.0.0.1:{port}/15"
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _create_database(admin_url: str) -> tuple[str, str]:
    import psycopg

    name = f"dg_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0]
    return name, f"{base}/{name}"


def _drop_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def postgres_server() -> Iterator[str]:
    """Yield a postgresql+psycopg:// URL of a fresh, empty database."""
    env_url = os.environ.get("DG_TEST_POSTGRES_URL")
    if env_url:
        yield env_url
        return
    if _reachable("127.0.0.1", 5432):
        admin = "postgresql://postgres@127.0.0.1:5432/postgres"
        name, url = _create_database(admin)
        try:
            yield url.replace("postgresql://", "postgresql+psycopg://", 1)
        finally:
            _drop_database(admin, name)
        return
    initdb, postgres = _pg_bin("initdb"), _pg_bin("postgres")
    if initdb is None or postgres is None:
        raise RuntimeError(
            "no PostgreSQL reachable and no server binaries; run .ci/run to install them"
        )
    port = _free_port()
    tmp = tempfile.mkdtemp(prefix="dg-pg-")
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(tmp, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    datadir = os.path.join(tmp, "data")
    subprocess.run(
        [*as_user, initdb, "-D", datadir, "-U", "postgres", "--auth=trust", "-E", "UTF8"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    proc = subprocess.Popen(
        [
            *as_user,
            postgres,
            "-D",
            datadir,
            "-p",
            str(port),
            "-k",
            tmp,
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_port(port, proc, "postgres")
        admin = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        for _ in range(50):
            try:
                name, url = _create_database(admin)
                break
            except Exception:
                time.sleep(0.2)
        else:
            raise RuntimeError("postgres never accepted connections")
        yield url.replace("postgresql://", "postgresql+psycopg://", 1)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        shutil.rmtree(tmp, ignore_errors=True)

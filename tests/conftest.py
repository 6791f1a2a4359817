from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from servers import postgres_server, redis_server

SPEC_DIR = Path(__file__).resolve().parents[2] / "shared" / "spec"


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """URL of a real Redis server (started for the session when none is reachable)."""
    with redis_server() as url:
        yield url


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """SQLAlchemy URL of an empty database on a real PostgreSQL server."""
    with postgres_server() as url:
        yield url

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .harness import ServerThread, running_mock


@pytest.fixture(scope="session")
def mock_upstream() -> Iterator[ServerThread]:
    """The mock LLM server on a free loopback port, shared by the session."""
    with running_mock() as server:
        yield server

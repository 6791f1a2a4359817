"""The Redis client's tests run on both event loops: asyncio's, and uvloop, which the gateway uses."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

import pytest
import uvloop


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> Mapping[str, Callable[[], asyncio.AbstractEventLoop]]:
    if item.path.name != "test_resp.py":
        return {"asyncio": asyncio.new_event_loop}  # as everywhere else
    return {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}

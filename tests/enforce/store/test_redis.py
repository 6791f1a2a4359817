"""Redis store: changes reach other store instances and other processes within seconds."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Callable

import pytest
import redis
from enforce_factories import make_action

from distillguard.enforce.store.redis import RedisStore
from distillguard.errors import StorageError

pytestmark = pytest.mark.redis


def _wait(condition: Callable[[], bool], limit: float = 5.0) -> float:
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > limit:
            raise AssertionError(f"not propagated within {limit}s")
        time.sleep(0.001)
    return time.monotonic() - start


@pytest.fixture
def url(redis_url: str) -> str:
    return f"{redis_url}?namespace=dg:test:{uuid.uuid4().hex}"


def test_change_reaches_another_instance_within_5_seconds(url: str) -> None:
    writer, reader = RedisStore.from_url(url), RedisStore.from_url(url)
    try:
        writer.put(make_action("account:a1"))
        put_delay = _wait(lambda: reader.decide(account_id="a1", now=0) is not None)
        writer.remove("account:a1")
        remove_delay = _wait(lambda: reader.decide(account_id="a1", now=0) is None)
        assert put_delay < 5 and remove_delay < 5
        print(f"propagation: put {put_delay * 1000:.1f} ms, remove {remove_delay * 1000:.1f} ms")
    finally:
        writer.close()
        reader.close()


def test_a_store_on_another_database_does_not_hear_the_changes(url: str) -> None:
    # same server, same namespace, another database: pub/sub channels are server-wide, and a
    # foreign change with the next version number used to be applied
    base, _, query = url.partition("?")
    server, _, db = base.rpartition("/")
    other = f"{server}/{(int(db or 0) + 1) % 16}?{query}"
    writer, reader = RedisStore.from_url(url), RedisStore.from_url(other)
    local = RedisStore.from_url(url)
    try:
        writer.put(make_action("account:elsewhere"))
        _wait(lambda: local.decide(account_id="elsewhere", now=0) is not None)
        time.sleep(0.2)
        assert reader.decide(account_id="elsewhere", now=0) is None
    finally:
        for store in (writer, reader, local):
            store.close()


def test_new_instance_starts_with_the_current_state(url: str) -> None:
    writer = RedisStore.from_url(url)
    writer.put(make_action("key:k1"))
    late = RedisStore.from_url(url)
    try:
        assert late.get("key:k1", now=0) is not None
    finally:
        writer.close()
        late.close()


def test_missed_message_is_repaired_by_periodic_resync(url: str, redis_url: str) -> None:
    reader = RedisStore.from_url(url + "&resync=0.2")
    namespace = url.split("namespace=")[1]
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        # A write that bypasses pub/sub, as if the message had been lost.
        action = make_action("account:lost")
        client.hset(f"{namespace}:actions", action.subject, json.dumps(action.to_dict()))
        client.incr(f"{namespace}:version")
        _wait(lambda: reader.get("account:lost", now=0) is not None, limit=3)
    finally:
        reader.close()
        client.close()


_CHILD = """
import sys, time
from distillguard.enforce.store.redis import RedisStore
store = RedisStore.from_url(sys.argv[1])
print("ready", flush=True)
deadline = time.monotonic() + 10
while store.decide(account_id="cross", now=0) is None:
    if time.monotonic() > deadline:
        print("timeout", flush=True)
        sys.exit(1)
    time.sleep(0.001)
print("seen", time.time(), flush=True)
store.close()
"""


@pytest.mark.integration
def test_change_reaches_another_process_within_5_seconds(url: str) -> None:
    child = subprocess.Popen([sys.executable, "-c", _CHILD, url], stdout=subprocess.PIPE, text=True)
    writer = RedisStore.from_url(url)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        sent = time.time()
        writer.put(make_action("account:cross"))
        line = child.stdout.readline().split()
        assert child.wait(timeout=15) == 0
        assert line[0] == "seen"
        delay = float(line[1]) - sent
        assert delay < 5
        print(f"cross-process propagation: {delay * 1000:.1f} ms")
    finally:
        child.kill()
        child.wait()
        writer.close()


def test_unreachable_redis_is_storage_error() -> None:
    with pytest.raises(StorageError, match="cannot reach Redis"):
        RedisStore.from_url("redis://127.0.0.1:1/0")

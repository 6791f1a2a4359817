"""The Redis enforcement store: shared by every gateway process, read from a local snapshot.

Layout under a namespace (default ``dg:enforce``): a hash ``<ns>:actions`` (subject → action
JSON), a counter ``<ns>:version`` bumped by every change, and a pub/sub channel ``<ns>:changes``
(``<ns>:changes:db<N>`` on database N > 0, since pub/sub channels span the server's databases).
A change is one Lua script (write, bump, publish), so the published versions are in order.

Each process keeps a :class:`~distillguard.enforce.store.base.Snapshot` and follows the channel
on a background thread. A version gap (a message lost while disconnected) triggers a full resync,
and every ``resync`` seconds the thread compares the counter with its own as a safety net. So
lookups stay in-process dict reads and a change reaches every process in milliseconds (the
contract is 5 seconds).

URL: ``redis://host:port/db?namespace=dg:enforce&resync=30``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson
import redis

from distillguard.enforce.actions import Action
from distillguard.enforce.store.base import Snapshot
from distillguard.errors import ConfigurationError, InputError, StorageError

_CHANGE = """
if ARGV[2] == 'put' then
  redis.call('HSET', KEYS[1], ARGV[3], ARGV[4])
elseif ARGV[2] == 'del' then
  redis.call('HDEL', KEYS[1], ARGV[3])
end
local v = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[1], cjson.encode({v = v, op = ARGV[2], subject = ARGV[3], action = ARGV[4]}))
return v
"""

# Delete only if the stored action is still the expired one (another process may have put a
# fresh action on the subject since).
_PRUNE = """
if redis.call('HGET', KEYS[1], ARGV[2]) ~= ARGV[3] then
  return 0
end
redis.call('HDEL', KEYS[1], ARGV[2])
local v = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[1], cjson.encode({v = v, op = 'del', subject = ARGV[2], action = ''}))
return v
"""

_RESET = """
redis.call('DEL', KEYS[1])
for i = 2, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
local v = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[1], cjson.encode({v = v, op = 'reset', subject = '', action = ''}))
return v
"""


def _encode(action: Action) -> str:
    return orjson.dumps(action.to_dict()).decode()


class RedisStore(Snapshot):
    """Enforcement store in Redis with a pub/sub-synchronised local snapshot."""

    def __init__(
        self,
        client: redis.Redis[str],
        *,
        namespace: str = "dg:enforce",
        resync_interval: float = 30.0,
    ) -> None:
        super().__init__()
        if resync_interval <= 0:
            raise ConfigurationError("resync interval must be positive")
        self._client = client
        self._hash = f"{namespace}:actions"
        self._counter = f"{namespace}:version"
        # Redis pub/sub ignores the database number: without it in the name, stores of the same
        # namespace on other databases of the server (staging beside production) would hear,
        # and could apply, each other's changes.
        db = int(client.connection_pool.connection_kwargs.get("db") or 0)
        self._channel = f"{namespace}:changes" if db == 0 else f"{namespace}:changes:db{db}"
        self._resync_interval = resync_interval
        self._change = client.register_script(_CHANGE)
        self._reset = client.register_script(_RESET)
        self._prune = client.register_script(_PRUNE)
        self._version = -1
        # Writes made by this process that its follower has not seen come back yet:
        # subject -> (version, action or None). They keep an older message or a resync from
        # briefly undoing this process's own newer write.
        self._local: dict[str, tuple[int, Action | None]] = {}
        self._floor = 0  # messages at or below this version predate our last replace_all
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.last_sync = 0.0  # time.monotonic() of the last full or incremental sync
        self.last_error: str | None = None
        self.rejected = 0  # malformed hash entries skipped
        try:
            self._pubsub = self._subscribe()
            self._resync()
        except redis.RedisError as exc:
            raise StorageError(f"enforcement store: cannot reach Redis: {exc}") from exc
        self._thread = threading.Thread(target=self._follow, name="dg-enforce-sync", daemon=True)
        self._thread.start()

    @classmethod
    def from_url(cls, url: str) -> RedisStore:
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query))
        namespace = query.pop("namespace", "dg:enforce")
        try:
            resync = float(query.pop("resync", "30"))
        except ValueError:
            raise ConfigurationError(f"{url}: resync must be a number of seconds") from None
        plain = urlunsplit(parts._replace(query=urlencode(query)))
        try:
            client = redis.Redis.from_url(plain, decode_responses=True, socket_timeout=5)
        except ValueError as exc:
            raise ConfigurationError(f"enforcement store URL {url!r}: {exc}") from None
        return cls(client, namespace=namespace, resync_interval=resync)

    # writes: Redis first, then the local snapshot (read-your-writes in this process)

    def put(self, action: Action) -> None:
        payload = _encode(action)
        version = self._run(self._change, "put", action.subject, payload)
        with self._lock:
            self._local[action.subject] = (version, action)
            self.set(action)

    def put_many(self, actions: Iterable[Action]) -> None:
        """One pipelined round trip; each action is still its own change and message."""
        actions = list(actions)
        try:
            with self._client.pipeline(transaction=False) as pipe:
                for action in actions:
                    payload = _encode(action)
                    self._change(
                        keys=[self._hash, self._counter],
                        args=[self._channel, "put", action.subject, payload],
                        client=pipe,
                    )
                versions = pipe.execute()
        except redis.RedisError as exc:
            raise StorageError(f"enforcement store: Redis write failed: {exc}") from exc
        with self._lock:
            for action, version in zip(actions, versions, strict=True):
                self._local[action.subject] = (int(version), action)
                self.set(action)

    def remove(self, subject: str) -> None:
        version = self._run(self._change, "del", subject, "")
        with self._lock:
            self._local[subject] = (version, None)
            self.discard(subject)

    def prune(self, now: float) -> int:
        """Compare-and-delete every action expired at ``now``."""
        pruned = 0
        for action in self.actions():
            if action.expires_at is None or action.expires_at.timestamp() > now:
                continue
            payload = _encode(action)
            try:
                version = int(
                    self._prune(
                        keys=[self._hash, self._counter],
                        args=[self._channel, action.subject, payload],
                    )
                )
            except redis.RedisError as exc:
                raise StorageError(f"enforcement store: Redis write failed: {exc}") from exc
            if version:
                pruned += 1
                with self._lock:
                    self._local[action.subject] = (version, None)
                    self.discard(action.subject)
        return pruned

    def replace_all(self, actions: Iterable[Action]) -> None:
        actions = list(actions)
        args: list[str] = [self._channel]
        for action in actions:
            args += [action.subject, _encode(action)]
        try:
            version = int(self._reset(keys=[self._hash, self._counter], args=args))
        except redis.RedisError as exc:
            raise StorageError(f"enforcement store: Redis write failed: {exc}") from exc
        with self._lock:
            self._local.clear()
            self._floor = max(self._floor, version)
            self.load(actions)

    def _run(self, script: Any, op: str, subject: str, payload: str) -> int:
        try:
            return int(
                script(keys=[self._hash, self._counter], args=[self._channel, op, subject, payload])
            )
        except redis.RedisError as exc:
            raise StorageError(f"enforcement store: Redis write failed: {exc}") from exc

    def actions(self) -> list[Action]:
        """Every action stored in Redis (authoritative, not the snapshot)."""
        try:
            raw = self._client.hgetall(self._hash)
        except redis.RedisError as exc:
            raise StorageError(f"enforcement store: Redis read failed: {exc}") from exc
        return sorted(self._parse(raw), key=lambda a: a.subject)

    def check(self) -> None:
        try:
            self._client.ping()
        except redis.RedisError as exc:
            raise StorageError(f"enforcement store: Redis is not reachable: {exc}") from exc
        stale = time.monotonic() - self.last_sync
        if stale > 2 * self._resync_interval + 5:
            raise StorageError(
                f"enforcement store: local snapshot not synchronised for {stale:.0f}s "
                f"(last error: {self.last_error})"
            )

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        try:
            self._pubsub.close()
            self._client.close()
        except redis.RedisError:
            pass

    # the follower thread

    def _subscribe(self) -> Any:
        pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(self._channel)
        return pubsub

    def _parse(self, raw: dict[str, str]) -> list[Action]:
        found = []
        for text in raw.values():
            try:
                found.append(Action.from_dict(orjson.loads(text)))
            except (ValueError, InputError):
                self.rejected += 1
        return found

    def _resync(self) -> None:
        with self._lock:
            with self._client.pipeline(transaction=True) as pipe:
                pipe.hgetall(self._hash)
                pipe.get(self._counter)
                raw, version = pipe.execute()
            self.load(self._parse(raw))
            self._version = int(version or 0)
            for subject, (written, action) in list(self._local.items()):
                if written <= self._version:
                    del self._local[subject]  # the snapshot we just read includes it
                elif action is None:
                    self.discard(subject)
                else:
                    self.set(action)
            self.last_sync = time.monotonic()

    def _follow(self) -> None:
        next_check = time.monotonic() + self._resync_interval
        backoff = 0.1
        while not self._stop.is_set():
            try:
                if self._pubsub is None:
                    self._pubsub = self._subscribe()
                    self._resync()
                message = self._pubsub.get_message(timeout=0.1)
                if message is not None and message.get("type") == "message":
                    self._on_message(message["data"])
                if time.monotonic() >= next_check:
                    next_check = time.monotonic() + self._resync_interval
                    if int(self._client.get(self._counter) or 0) != self._version:
                        self._resync()
                    self.last_sync = time.monotonic()
                backoff = 0.1
            except (redis.RedisError, OSError, ValueError) as exc:
                self.last_error = str(exc)
                try:
                    if self._pubsub is not None:
                        self._pubsub.close()
                except (redis.RedisError, OSError):
                    pass
                self._pubsub = None
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)

    def _on_message(self, data: str) -> None:
        message = orjson.loads(data)
        version = int(message["v"])
        if version <= self._version:
            return
        if version != self._version + 1 or message["op"] == "reset":
            self._resync()
            return
        with self._lock:
            self._apply(message, version)
            self._version = version
            self.last_sync = time.monotonic()

    def _apply(self, message: dict[str, Any], version: int) -> None:
        if version <= self._floor:
            return  # superseded by this process's replace_all
        subject = message["subject"]
        local = self._local.get(subject)
        if local is not None:
            if local[0] > version:
                return  # this process has written the subject since
            del self._local[subject]
        if message["op"] == "put":
            try:
                self.set(Action.from_dict(orjson.loads(message["action"])))
            except InputError:
                self.rejected += 1
        else:
            self.discard(subject)

"""Server-sent events, re-framed through a :class:`~distillguard.enforce.responses.StreamFilter`.

Bytes arrive in arbitrary chunks; :class:`SSEFilter` cuts them into events at blank lines,
passes each JSON ``data`` payload through the stream filter and writes the surviving events back
in the same framing (``event:`` line kept when the original had one, named after the event's
``type`` so an event the filter adds is named as the SDKs expect). ``[DONE]``, comments and
non-JSON data pass through unchanged; before ``[DONE]`` and at the end of the stream, whatever the
filter still holds back is released (:meth:`StreamFilter.finish`).
"""

from __future__ import annotations

from typing import Any

from distillguard.enforce import codec
from distillguard.enforce.responses import StreamFilter


class SSEFilter:
    """Incremental SSE re-framer: ``feed(chunk) -> bytes`` then ``flush() -> bytes``."""

    def __init__(self, events: StreamFilter) -> None:
        self.events = events
        self._buffer = b""

    def feed(self, chunk: bytes) -> bytes:
        self._buffer += chunk
        if b"\r" in self._buffer:
            self._buffer = self._buffer.replace(b"\r\n", b"\n")
        out = []
        while True:
            end = self._buffer.find(b"\n\n")
            if end < 0:
                break
            block, self._buffer = self._buffer[:end], self._buffer[end + 2 :]
            out.append(self._event(block))
        return b"".join(out)

    def flush(self) -> bytes:
        rest, self._buffer = self._buffer, b""
        out = self._event(rest) if rest.strip() else rest
        return out + self._frames(self.events.finish(), [], None, True)

    def _event(self, block: bytes) -> bytes:
        name: bytes | None = None
        data: list[bytes] = []
        other: list[bytes] = []
        for line in block.split(b"\n"):
            if line.startswith(b"data:"):
                data.append(line[5:].removeprefix(b" "))
            elif line.startswith(b"event:"):
                name = line[6:].strip()
            else:
                other.append(line)
        if not data:
            return block + b"\n\n"
        payload = b"\n".join(data)
        try:
            parsed = codec.loads(payload)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):  # [DONE] or foreign data: release what is held first
            return self._frames(self.events.finish(), [], None, True) + block + b"\n\n"
        return self._frames(self.events.feed(parsed), other, name, name is not None)

    @staticmethod
    def _frames(
        events: list[dict[str, Any]], other: list[bytes], name: bytes | None, named: bool
    ) -> bytes:
        """SSE frames for ``events``; ``named``: give each an ``event:`` line from its type."""
        frames = []
        for event in events:
            lines = [*other]
            kind = event.get("type")
            if isinstance(kind, str) and kind and named:
                lines.append(b"event: " + kind.encode())
            elif name is not None:
                lines.append(b"event: " + name)
            lines.append(b"data: " + codec.dumps(event))
            frames.append(b"\n".join(line for line in lines if line) + b"\n\n")
        return b"".join(frames)

"""Server-sent events, re-framed through a :class:`~distillguard.enforce.responses.StreamFilter`.

Bytes arrive in arbitrary chunks; :class:`SSEFilter` cuts them into events at blank lines,
passes each JSON ``data`` payload through the stream filter and writes the surviving events back
in the same framing (``event:`` line kept when the original had one). ``[DONE]``, comments and
non-JSON data pass through unchanged.
"""

from __future__ import annotations

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
        return self._event(rest) if rest.strip() else rest

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
            return block + b"\n\n"
        if not isinstance(parsed, dict):
            return block + b"\n\n"
        frames = []
        for event in self.events.feed(parsed):
            lines = [*other]
            if name is not None:
                lines.append(b"event: " + name)
            lines.append(b"data: " + codec.dumps(event))
            frames.append(b"\n".join(line for line in lines if line) + b"\n\n")
        return b"".join(frames)

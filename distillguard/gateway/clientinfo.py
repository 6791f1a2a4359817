"""Who is calling: the client address and TLS fingerprint, trusting proxies only as configured.

``X-Forwarded-For`` and the JA4 header are only believed when the TCP peer is one of the
configured trusted proxy networks; anyone else could write any value there. The client is the
rightmost address in ``X-Forwarded-For`` that is not itself a trusted proxy: every trusted hop
appends the address it saw, so everything left of the first untrusted hop may be forged.
"""

from __future__ import annotations

import ipaddress

from distillguard.config import Network

_CACHE_LIMIT = 4096
UNKNOWN_PEER = "0.0.0.0"


class ClientResolver:
    """Resolves ``(client_ip, ja4)`` from the socket peer and forwarding headers.

    Example::

        resolver = ClientResolver(parse_networks("10.0.0.0/8"))
        resolver.resolve("10.0.0.5", b"203.0.113.7, 10.0.0.9", b"t13d…")
        # -> ("203.0.113.7", "t13d…")
    """

    def __init__(self, trusted: tuple[Network, ...] = ()) -> None:
        self.trusted = trusted
        self._peer_trust: dict[str, bool] = {}

    def is_trusted(self, address: str) -> bool:
        """True when ``address`` lies in a trusted proxy network (cached per address)."""
        known = self._peer_trust.get(address)
        if known is not None:
            return known
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            trusted = False
        else:
            trusted = any(ip in network for network in self.trusted)
        if len(self._peer_trust) >= _CACHE_LIMIT:
            self._peer_trust.clear()
        self._peer_trust[address] = trusted
        return trusted

    def resolve(
        self, peer: str | None, forwarded_for: bytes | None, ja4: bytes | None
    ) -> tuple[str, str | None]:
        """Return the client address and the JA4 fingerprint (``None`` when not trusted)."""
        if peer is None:
            peer = UNKNOWN_PEER
        if not self.trusted or not self.is_trusted(peer):
            return peer, None
        fingerprint = (ja4.decode("latin-1").strip() or None) if ja4 else None
        if not forwarded_for:
            return peer, fingerprint
        client = peer
        for hop in reversed(forwarded_for.decode("latin-1").split(",")):
            text = hop.strip()
            try:
                address = str(ipaddress.ip_address(text))
            except ValueError:
                # A garbled hop: stop at the last address a trusted proxy vouched for.
                break
            client = address
            if not self.is_trusted(address):
                break
        return client, fingerprint

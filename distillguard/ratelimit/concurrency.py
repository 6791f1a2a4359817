"""Concurrency rules (``concurrent``): slots held by leases that expire.

An admitted request holds one slot per concurrency demand until its lease is settled. The
famous failure of gateway limiters is the counter that is incremented at the start and
decremented "at the end": a cancelled stream, a timeout or a crashed worker skips the
decrement and the subject is refused forever. Here a slot is not a counter but a lease id
with an expiry (the maximum lifetime of a request, 15 minutes by default): settling removes
it, and an expired lease is purged on the next look at the counter, so a lost settle costs a
slot for at most one lifetime. In Redis the slots are a sorted set of lease ids scored by
their expiry; the script purges scores below the server's ``TIME`` before counting.
"""

from __future__ import annotations

DEFAULT_LEASE_TTL_S = 15 * 60.0


class Slots:
    """The live leases of one concurrency counter, in expiry order.

    Every lease of a limiter has the same lifetime, so insertion order is expiry order and
    expired leases are always at the front of the dict.
    """

    __slots__ = ("leases", "used")

    def __init__(self) -> None:
        self.leases: dict[str, tuple[int, int]] = {}  # lease id -> (expiry µs, slots)
        self.used = 0

    def purge(self, now: int) -> None:
        """Drop leases whose expiry is past."""
        leases = self.leases
        while leases:
            lease_id = next(iter(leases))
            expiry, cost = leases[lease_id]
            if expiry > now:
                return
            del leases[lease_id]
            self.used -= cost

    def take(self, lease_id: str, cost: int, limit: int, now: int, expiry: int) -> bool:
        """Hold ``cost`` slots for ``lease_id`` until ``expiry`` if they are free."""
        self.purge(now)
        if self.used + cost > limit:
            return False
        held = self.leases.pop(lease_id, None)
        if held is not None:
            cost += held[1]
            self.used -= held[1]
        self.leases[lease_id] = (expiry, cost)
        self.used += cost
        return True

    def release(self, lease_id: str) -> None:
        """Free the slots of ``lease_id`` (nothing if it is not held)."""
        held = self.leases.pop(lease_id, None)
        if held is not None:
            self.used -= held[1]

    def remaining(self, limit: int) -> int:
        left = limit - self.used
        return left if left > 0 else 0

"""When requests happen within a day: human sessions, services, batch jobs, evaluation bursts,
an operator's dispatch waves, or an even spread.

Every function is vectorised over all requests of one group on one day: it gets the accounts'
request counts and returns millisecond offsets within the UTC day (wrapping at midnight).
"""

from __future__ import annotations

import numpy as np

from distillguard.simulate.streams import DAY_MS, HOUR_MS

# share of a person's activity per local hour (work hours and evening)
HUMAN = np.array(
    [
        0.4,
        0.25,
        0.15,
        0.1,
        0.1,
        0.2,
        0.5,
        1.2,
        2.2,
        3.2,
        3.6,
        3.5,
        2.8,
        3.2,
        3.6,
        3.4,
        3.1,
        2.6,
        2.2,
        2.4,
        2.6,
        2.3,
        1.6,
        0.9,
    ]
)
SERVICE = np.array(
    [
        0.8,
        0.5,
        0.35,
        0.3,
        0.3,
        0.45,
        0.8,
        1.3,
        1.8,
        2.0,
        2.1,
        2.2,
        2.3,
        2.2,
        2.1,
        2.1,
        2.2,
        2.4,
        2.7,
        3.0,
        3.1,
        2.8,
        2.2,
        1.4,
    ]
)
OPERATOR = np.array(
    [
        0.6,
        0.6,
        0.5,
        0.5,
        0.5,
        0.5,
        0.6,
        0.8,
        1.4,
        1.8,
        1.9,
        1.9,
        1.5,
        1.8,
        1.9,
        1.9,
        1.8,
        1.6,
        1.3,
        1.2,
        1.1,
        1.0,
        0.8,
        0.7,
    ]
)


def _hours(r: np.random.Generator, profile: np.ndarray, count: int) -> np.ndarray:
    return r.choice(24, size=count, p=profile / profile.sum()).astype(np.int64)


def _local_to_utc(local_ms: np.ndarray, tz_hours: np.ndarray) -> np.ndarray:
    return (local_ms - (tz_hours * HOUR_MS).astype(np.int64)) % DAY_MS


def owners(counts: np.ndarray) -> np.ndarray:
    """Account index of each request, grouped by account (``counts`` requests for account i)."""
    return np.repeat(np.arange(len(counts)), counts)


def human(r: np.random.Generator, counts: np.ndarray, tz: np.ndarray) -> np.ndarray:
    """Sessions of a few minutes to an hour, started at human hours in the account's time zone."""
    who = owners(counts)
    total = len(who)
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    sessions = 1 + r.binomial(np.maximum(counts - 1, 0), 0.12)
    first = np.concatenate([[0], np.cumsum(sessions)[:-1]])
    starts = _hours(r, HUMAN, int(sessions.sum())) * HOUR_MS + (
        r.random(int(sessions.sum())) * HOUR_MS
    ).astype(np.int64)
    lengths = (r.exponential(20 * 60_000, int(sessions.sum())) + 60_000).astype(np.int64)
    pick = first[who] + (r.random(total) * sessions[who]).astype(np.int64)
    local = starts[pick] + (r.random(total) * lengths[pick]).astype(np.int64)
    return _local_to_utc(local, tz[who])


def service(r: np.random.Generator, counts: np.ndarray, tz: np.ndarray) -> np.ndarray:
    """Many end users behind one key: independent requests following the app's daily curve."""
    who = owners(counts)
    local = _hours(r, SERVICE, len(who)) * HOUR_MS + (r.random(len(who)) * HOUR_MS).astype(np.int64)
    return _local_to_utc(local, tz[who])


def batch(r: np.random.Generator, counts: np.ndarray, style: np.ndarray) -> np.ndarray:
    """Around the clock, with a share of each account's jobs in its hourly cron window."""
    who = owners(counts)
    total = len(who)
    spread = (r.random(total) * DAY_MS).astype(np.int64)
    minute = (style[who] % 50) * 60_000
    cron = (
        r.integers(0, 24, total) * HOUR_MS
        + minute
        + (r.random(total) * 8 * 60_000).astype(np.int64)
    ) % DAY_MS
    return np.where(r.random(total) < 0.35, cron, spread)


def burst(r: np.random.Generator, counts: np.ndarray, tz: np.ndarray) -> np.ndarray:
    """An evaluation run: items sent back to back over 20 to 120 minutes from a work-hour start."""
    who = owners(counts)
    total = len(who)
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    start = _hours(r, HUMAN, len(counts)) * HOUR_MS
    duration = (r.uniform(20, 120, len(counts)) * 60_000).astype(np.int64)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    position = np.arange(total) - first[who]
    local = (
        start[who]
        + position * duration[who] // np.maximum(counts[who], 1)
        + r.integers(0, 2000, total)
    )
    return _local_to_utc(local, tz[who])


def waves(
    r: np.random.Generator, counts: np.ndarray, operator_tz: float, day_key: int
) -> np.ndarray:
    """The operator's dispatcher: work goes out in waves of ~15 minutes; every member active in
    a wave sends within it, so members are loosely synchronised."""
    who = owners(counts)
    total = len(who)
    wave_count = 10 + day_key % 7
    starts = np.sort(
        _hours(r, OPERATOR, wave_count) * HOUR_MS
        + (r.random(wave_count) * HOUR_MS).astype(np.int64)
    )
    pick = r.integers(0, wave_count, total)
    local = starts[pick] + (r.random(total) * 15 * 60_000).astype(np.int64)
    return (local - int(operator_tz * HOUR_MS)) % DAY_MS


def uniform(r: np.random.Generator, counts: np.ndarray) -> np.ndarray:
    """Evenly over the whole day (low-and-slow pacing)."""
    return (r.random(int(counts.sum())) * DAY_MS).astype(np.int64)

"""One day of requests for every group, merged in time order and rendered as dg.request.v1.

The numbers (who sends how many requests when, from which address, with which client and
model) are drawn with numpy per group and day; only the final rendering of each record runs in
Python, in time order, from precomputed lists.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from distillguard.simulate import clients, timing
from distillguard.simulate.population import EPOCH_DAYS, EPOCHS, Group
from distillguard.simulate.presets import BASE_MODELS, Preset
from distillguard.simulate.render import Renderer
from distillguard.simulate.streams import DAY_MS, HOUR_MS, Clock, mix64, rng

CHUNK = 32_768


class Traffic:
    """Generates the requests of one day at a time; any day can be generated independently."""

    def __init__(
        self, preset: Preset, seed: int, groups: list[Group], clock: Clock, renderer: Renderer
    ) -> None:
        self.preset = preset
        self.seed = seed
        self.groups = groups
        self.clock = clock
        self.renderer = renderer
        self.models = [*BASE_MODELS, *(r.model for r in preset.releases)]
        self._rate = [self._daily_rate(g) for g in groups]
        self._model_p = [self._model_weights(g) for g in groups]
        self._pools = [self._carrier_pools(g) for g in groups]
        setup = rng(seed, "traffic-setup")
        self._alt_clients = []
        for g in groups:
            families = g.persona.clients if g.persona else g.campaign.clients if g.campaign else {}
            self._alt_clients.append(clients.pick(setup, families, 512))

    def _daily_rate(self, g: Group) -> float:
        if g.persona is not None:
            return g.persona.per_day
        spec = g.campaign
        assert spec is not None
        start = np.maximum(g.created // DAY_MS + 1, spec.start_day)
        alive = np.clip(self.preset.days - start, 0, None)
        expected = float((alive * g.weight).sum()) * spec.active
        return spec.requests / max(expected, 1.0)

    def _model_weights(self, g: Group) -> np.ndarray:
        table = g.persona.models if g.persona else g.campaign.models if g.campaign else {}
        p = np.array([table.get(m, 0.0) for m in self.models], dtype=float)
        weights: np.ndarray = p / p.sum()
        return weights

    def _carrier_pools(self, g: Group) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        pools = g.extra.get("pools")
        if not pools:
            return (
                np.zeros(1, dtype=np.int64),
                np.zeros(g.size, dtype=np.int64),
                np.ones(g.size, dtype=np.int64),
            )
        unique: dict[int, int] = {}
        parts: list[np.ndarray] = []
        starts = np.zeros(g.size, dtype=np.int64)
        lengths = np.zeros(g.size, dtype=np.int64)
        offset = 0
        for i, pool in enumerate(pools):
            key = id(pool)
            if key not in unique:
                unique[key] = offset
                parts.append(pool)
                offset += len(pool)
            starts[i], lengths[i] = unique[key], len(pool)
        return np.concatenate(parts), starts, lengths

    # -- numbers ---------------------------------------------------------------------------
    def _counts(self, gi: int, g: Group, day: int, r: np.random.Generator) -> np.ndarray:
        weekend = self.clock.date(day).weekday() >= 5
        day_end = (day + 1) * DAY_MS
        alive = g.created < day_end - HOUR_MS
        if g.persona is not None:
            p = min(1.0, g.persona.active * (g.persona.weekend if weekend else 1.0))
        else:
            spec = g.campaign
            assert spec is not None
            p = spec.active
            alive &= day >= spec.start_day
        active = alive & (r.random(g.size) < p)
        counts = r.poisson(self._rate[gi] * g.weight) * active
        return np.where(active, np.maximum(counts, 1), 0).astype(np.int64)

    def _times(self, g: Group, counts: np.ndarray, day: int, r: np.random.Generator) -> np.ndarray:
        rhythm = g.persona.rhythm if g.persona else g.campaign.rhythm if g.campaign else "human"
        if rhythm == "service":
            t = timing.service(r, counts, g.tz)
        elif rhythm == "batch":
            t = timing.batch(r, counts, g.style)
        elif rhythm == "burst":
            t = timing.burst(r, counts, g.tz)
        elif rhythm == "waves":
            assert g.campaign is not None
            t = timing.waves(r, counts, g.campaign.operator_tz, day)
        elif rhythm == "uniform":
            t = timing.uniform(r, counts)
        else:
            t = timing.human(r, counts, g.tz)
        who = timing.owners(counts)
        created_today = g.created[who] - day * DAY_MS
        shifted: np.ndarray = (
            np.maximum(t, np.clip(created_today + 60_000, 0, DAY_MS - 1)) + day * DAY_MS
        )
        return shifted

    def _addresses(
        self, gi: int, g: Group, who: np.ndarray, ts: np.ndarray, day: int, r: np.random.Generator
    ) -> np.ndarray:
        n = len(who)
        if g.campaign is not None:
            out = g.home[who, r.integers(0, EPOCHS, n)]
            residential = g.extra["residential"][who]
            pool = g.extra["pool"]
            sticky = g.extra["sticky_ms"]
            if sticky > 0:
                slot = mix64(
                    who.astype(np.uint64) * np.uint64(1_000_003) + (ts // sticky).astype(np.uint64),
                    self.seed,
                )
                pick = (slot % np.uint64(len(pool))).astype(np.int64)
            else:
                pick = r.integers(0, len(pool), n)
            chosen: np.ndarray = np.where(residential, pool[pick], out)
            return chosen
        epoch = np.clip((day + g.epoch_shift[who]) // EPOCH_DAYS, 0, EPOCHS - 1)
        rotating = g.extra["rotating"][who]
        out = np.where(rotating, g.home[who, r.integers(0, EPOCHS, n)], g.home[who, epoch])
        flat, starts, lengths = self._pools[gi]
        mobile = g.extra["mobile_only"][who] | (~rotating & (r.random(n) < 0.1))
        carrier = flat[starts[who] + r.integers(0, 1 << 30, n) % lengths[who]]
        result: np.ndarray = np.where(mobile, carrier, out)
        return result

    def _model(self, gi: int, g: Group, ts: np.ndarray, r: np.random.Generator) -> np.ndarray:
        model = r.choice(len(self.models), size=len(ts), p=self._model_p[gi])
        for k, release in enumerate(self.preset.releases):
            index = len(BASE_MODELS) + k
            since = (ts - release.offset_ms) / DAY_MS
            if g.campaign is not None:
                lag = 0.1 + (self.seed + gi) % 10 / 40
                share = (
                    np.where(since > lag, g.campaign.pivot, 0.0)
                    if g.campaign.pivot > 0
                    else np.where(since > 7, 0.1, 0.0)
                )
            else:
                assert g.persona is not None
                share = np.where(
                    since > 0, 0.6 * (1 - np.exp(-np.maximum(since, 0) / g.persona.adopt_days)), 0.0
                )
            model = np.where(r.random(len(ts)) < share, index, model)
        return model

    def columns(self, day: int) -> dict[str, np.ndarray]:
        """The day's requests as columns, sorted by time."""
        parts: list[dict[str, np.ndarray]] = []
        for gi, g in enumerate(self.groups):
            r = rng(self.seed, "day", day, g.name)
            counts = self._counts(gi, g, day, r)
            who = timing.owners(counts)
            if len(who) == 0:
                continue
            ts = self._times(g, counts, day, r)
            n = len(who)
            client = np.where(
                r.random(n) < (0.95 if g.persona else 1.0),
                g.client[who],
                self._alt_clients[gi][r.integers(0, 512, n)],
            )
            if g.campaign is not None and g.campaign.client_builds == 0:
                client = self._alt_clients[gi][r.integers(0, 512, n)]
            parts.append(
                {
                    "ts": ts,
                    "group": np.full(n, gi),
                    "account": who,
                    "ip": self._addresses(gi, g, who, ts, day, r),
                    "client": client,
                    "model": self._model(gi, g, ts, r),
                    "r": r.integers(0, 1 << 63, n, dtype=np.int64),
                    "w": r.integers(0, 1 << 63, n, dtype=np.int64),
                    "seq": np.arange(n)
                    - np.repeat(np.concatenate([[0], np.cumsum(counts)[:-1]]), counts),
                }
            )
        if not parts:
            return {}
        merged = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        order = np.lexsort((merged["seq"], merged["account"], merged["group"], merged["ts"]))
        return {k: v[order] for k, v in merged.items()}

    def records(self, day: int, first_number: int) -> Iterator[dict[str, Any]]:
        """The day's dg.request.v1 records in time order; request numbers start at ``first_number``."""
        return self.render(self.columns(day), first_number)

    def render(self, cols: dict[str, np.ndarray], first_number: int) -> Iterator[dict[str, Any]]:
        """Records of columns made by :meth:`columns`, in their (time) order."""
        if not cols:
            return
        day = int(cols["ts"][0] // DAY_MS)
        total = len(cols["ts"])
        for start in range(0, total, CHUNK):
            block = {k: v[start : start + CHUNK].tolist() for k, v in cols.items()}
            moments = (cols["ts"][start : start + CHUNK] + self.clock.start_ms).astype(
                "datetime64[ms]"
            )
            block["iso"] = [t + "Z" for t in np.datetime_as_string(moments, unit="ms").tolist()]
            yield from self.renderer.render_block(block, day, first_number + start)

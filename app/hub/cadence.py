"""Adaptive cadence: the push interval stretches when the process is busy, never collapses.

Each cycle, the lanes report how long the cycle took from its publication until
every session had been handed its update (queueing on the server's event loop
included: that is where a busy process shows). :func:`step` turns those reports
into the next interval, between a floor (``PHOTON_PUSH_INTERVAL_MS``, the fastest)
and a ceiling (``PHOTON_MAX_PUSH_INTERVAL_MS``): an overloaded server sends fewer,
complete updates to everyone instead of missing some. It stretches fast and
shortens slowly, so it does not oscillate around the limit.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Policy:
    """How the cadence reacts; the defaults suit the fast lane."""

    floor_s: float
    ceiling_s: float
    busy: float = 0.5
    """Stretch when a cycle's delivery takes more than this share of the interval."""
    idle: float = 0.2
    """Shorten when it takes less than this share."""
    stretch: float = 1.5
    shrink: float = 0.9
    smoothing: float = 0.3
    """Weight of the newest report in the moving average of the load."""

    def __post_init__(self) -> None:
        if not 0 < self.floor_s <= self.ceiling_s:
            raise ValueError("cadence needs 0 < floor <= ceiling")


def step(interval_s: float, load: float, busy_s: float, policy: Policy) -> tuple[float, float]:
    """(next interval, new smoothed load) after a cycle whose delivery took ``busy_s``.

    ``load`` is the moving average of delivery time over interval; the interval
    grows by ``stretch`` while it is above ``busy``, shrinks by ``shrink`` while it
    is below ``idle``, and stays between the floor and the ceiling.
    """
    sample = max(busy_s, 0.0) / interval_s
    load = sample if load < 0 else policy.smoothing * sample + (1 - policy.smoothing) * load
    if load > policy.busy:
        interval_s *= policy.stretch
    elif load < policy.idle:
        interval_s *= policy.shrink
    return min(max(interval_s, policy.floor_s), policy.ceiling_s), load


class Cadence:
    """The hub's current interval, fed by delivery reports from the lanes (any thread).

    Lanes :meth:`report` as their fan-outs finish; the hub's thread calls
    :meth:`advance` once per cycle, which steps on the slowest report since the last
    call, so two lanes reporting the same cycle count once.
    """

    def __init__(self, policy: Policy):
        self.policy = policy
        self._interval = policy.floor_s
        self._load = -1.0  # no report yet
        self._pending: float | None = None
        self._lock = threading.Lock()

    @property
    def interval_s(self) -> float:
        with self._lock:
            return self._interval

    @property
    def load(self) -> float:
        """Smoothed delivery time as a share of the interval (0 before any report)."""
        with self._lock:
            return max(self._load, 0.0)

    def report(self, busy_s: float) -> None:
        """A fan-out finished ``busy_s`` after its cycle was published."""
        with self._lock:
            self._pending = busy_s if self._pending is None else max(self._pending, busy_s)

    def advance(self) -> float:
        """The interval until the next cycle, after the reports since the last call."""
        with self._lock:
            if self._pending is not None:
                self._interval, self._load = step(self._interval, self._load, self._pending,
                                                  self.policy)
                self._pending = None
            return self._interval

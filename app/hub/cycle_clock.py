"""The hub's cycle clock: one thread that runs a cycle every push interval.

The one place that decides *when* a cycle runs: the cadence gives the interval,
:func:`schedule` keeps the deadline (late wake-ups do not drift it; whole missed
intervals are skipped and counted, not burst).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from app.hub.cadence import Cadence

log = logging.getLogger(__name__)


def schedule(next_at: float, now: float, interval: float) -> tuple[float, float, int]:
    """(deadline, wait, cycles missed) for the next cycle due at ``next_at``.

    A wake-up that is merely late keeps the schedule (no wait now), so small waits
    for the GIL do not drift the cadence; whole missed cycles are skipped, not
    burst, and counted.
    """
    if next_at - now < -interval:
        return now, 0.0, int((now - next_at) / interval)
    return next_at, max(next_at - now, 0.0), 0


class CycleClock:
    """Calls ``on_cycle()`` on its own thread once per ``cadence`` interval."""

    def __init__(self, cadence: Cadence, on_cycle: Callable[[], None],
                 name: str = "photon-hub"):
        self.cadence = cadence
        self._on_cycle = on_cycle
        self._name = name
        self.cycles_missed = 0
        """Cycles skipped because the thread woke a whole interval late."""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        """Start ticking (idempotent)."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def _loop(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            interval = self.cadence.advance()
            next_at += interval
            try:
                self._on_cycle()
            except Exception:  # a bad cycle must not end publishing for everyone
                log.exception("hub publish cycle failed")
            next_at, delay, missed = schedule(next_at, time.monotonic(), interval)
            self.cycles_missed += missed
            self._stop.wait(delay)

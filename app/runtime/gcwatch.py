"""Garbage-collector pauses, timed: a full collection stops every thread, the hub's too.

With hundreds of sessions the process holds a large graph of Bokeh and Panel
objects, and a full (generation 2) collection walks all of it while no other
Python code runs. A pause longer than the push interval makes the hub miss a
cycle. Pauses are exported as ``photon_gc_pause_seconds`` and long ones logged,
so an operator can tell them from other stalls.
"""

from __future__ import annotations

import gc
import logging
import time

from app.runtime import metrics

log = logging.getLogger(__name__)

#: A collection at least this long is logged.
LOG_AFTER_S = 0.05

_started: float | None = None


def _on_gc(phase: str, info: dict) -> None:
    """``gc.callbacks`` hook: runs in whichever thread triggered the collection."""
    global _started
    if phase == "start":
        _started = time.perf_counter()
        return
    if _started is None:
        return
    pause, _started = time.perf_counter() - _started, None
    metrics.observe_gc_pause(info["generation"], pause)
    if pause >= LOG_AFTER_S:
        log.info("gc_pause generation=%d ms=%.0f collected=%d",
                 info["generation"], pause * 1000, info["collected"])


def install() -> None:
    """Time every collection from now on (idempotent)."""
    if _on_gc not in gc.callbacks:
        gc.callbacks.append(_on_gc)


def uninstall() -> None:
    if _on_gc in gc.callbacks:
        gc.callbacks.remove(_on_gc)

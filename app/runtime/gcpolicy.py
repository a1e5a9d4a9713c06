"""Garbage-collection policy: built sessions are frozen out of full collections.

Each session holds about 1,600 objects the cyclic collector tracks (Bokeh models,
param watchers, Panel layouts: ``python -m bench.gcobjects``; 2,100 before the page
was flattened), and a full collection walks all of them while every thread waits:
about 0.8 ms per live session, so most of a second at 1,000 sessions. They live as
long as their session, so walking them again and again finds nothing.
``gc.freeze()`` moves every tracked object into a permanent generation that collections
skip (the same heap of 200 sessions: 360 ms, then under
1 ms). A frozen object is only ever freed by reference counting, so a closed
session's cycles would stay; the *reclaim* step (unfreeze, one full collection,
freeze again) frees them, and runs only once enough frozen sessions have closed:
one deliberate pause per many closed sessions instead of one every few seconds.

:func:`decide` is the pure rule; :class:`GcPolicy` applies it on a timer of the
server's IO loop, reading the hub's session counters, once a second: so that few
sessions are built between two freezes (see :data:`EVERY_MS`).
"""

from __future__ import annotations

import enum
import gc
import logging
import time
from dataclasses import dataclass

from tornado.ioloop import PeriodicCallback

from app.runtime.singleton import OnePerProcess

log = logging.getLogger(__name__)

#: How often the policy looks at the session counters, milliseconds. Often enough that
#: the sessions opened between two freezes stay few: ``gc.freeze()`` costs nothing (it
#: moves lists) and starts the generations' counts again, and CPython starts a full
#: collection on its own only after ten young-generation collections since then, about
#: 50 sessions' worth of new objects. At 5 s, 20 new sessions a second reached that
#: between freezes: full collections every few seconds, each walking the unfrozen
#: sessions and freeing nothing (the issue's ``collected=0`` pauses, up to 640 ms).
EVERY_MS = 1000

#: The oldest generation's threshold while the policy runs (CPython's is 10): frozen
#: sessions are freed by the reclaim step, so a full collection started by the
#: allocator walks new, live objects only; this makes them ten times rarer in a
#: burst of new sessions faster than the freezes.
FULL_THRESHOLD = 100


class Action(enum.Enum):
    NOTHING = "nothing"
    FREEZE = "freeze"
    """Freeze what exists now: the sessions built since the last freeze."""
    RECLAIM = "reclaim"
    """Unfreeze, collect everything, freeze again: frees the closed sessions' objects."""


@dataclass(frozen=True, slots=True)
class Rule:
    """When to reclaim: once ``share`` of the frozen sessions (at least ``least``) closed,
    or after ``max_freezes`` freezes (each may have frozen some short-lived garbage)."""

    share: float = 0.25
    least: int = 20
    max_freezes: int = 600  # 10 minutes of freezes at EVERY_MS


def decide(frozen: int, closed: int, opened: int, freezes: int, rule: Rule = Rule()) -> Action:
    """What to do now, given sessions ``frozen`` (live at the last freeze), ``closed``
    since the last reclaim, ``opened`` since the last freeze, and ``freezes`` done
    since the last reclaim."""
    if closed > 0 and closed >= max(rule.least, rule.share * frozen):
        return Action.RECLAIM
    if freezes >= rule.max_freezes and (closed or opened):
        return Action.RECLAIM
    if opened > 0:
        return Action.FREEZE
    return Action.NOTHING


def full_threshold(thresholds: tuple[int, ...]) -> tuple[int, ...]:
    """``gc.get_threshold()`` with the oldest generation's at :data:`FULL_THRESHOLD` at
    least; the young generations' as they are."""
    *young, oldest = thresholds
    return (*young, max(oldest, FULL_THRESHOLD))


class GcPolicy:
    """Applies :func:`decide` to a hub's ``sessions_opened``/``sessions_closed``."""

    def __init__(self, hub, rule: Rule = Rule(), every_ms: int | None = EVERY_MS):
        self.hub = hub
        self.rule = rule
        self._opened = hub.sessions_opened
        self._closed = hub.sessions_closed
        self._frozen_sessions = 0
        self.freezes = 0
        self.reclaims = 0
        self.last_reclaim_ms = 0.0
        self._thresholds = gc.get_threshold()
        gc.set_threshold(*full_threshold(self._thresholds))
        self._timer = None if every_ms is None else PeriodicCallback(self.tick, every_ms)
        if self._timer is not None:  # None: the caller ticks (tests)
            self._timer.start()

    def tick(self) -> Action:
        """Look at the counters once and act. Closed sessions count from the last
        reclaim, not the last freeze: under steady churn every tick freezes the new
        sessions, and counting from there would never reach the share, so closed
        sessions would pile up frozen until ``max_freezes``."""
        opened = self.hub.sessions_opened - self._opened
        closed = self.hub.sessions_closed - self._closed
        action = decide(self._frozen_sessions, closed, opened, self.freezes, self.rule)
        if action is Action.NOTHING:
            return action
        if action is Action.RECLAIM:
            t0 = time.perf_counter()
            gc.unfreeze()
            gc.collect()
            self.last_reclaim_ms = (time.perf_counter() - t0) * 1000
            self.reclaims += 1
            self.freezes = 0
            log.info("gc_reclaim closed_sessions=%d ms=%.0f", closed, self.last_reclaim_ms)
            self._closed = self.hub.sessions_closed
        else:
            gc.collect(1)  # young garbage is not worth freezing; cheap
        gc.freeze()
        self.freezes += 1
        self._opened = self.hub.sessions_opened
        self._frozen_sessions = self.hub.sessions
        return action

    def close(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        gc.set_threshold(*self._thresholds)
        gc.unfreeze()


_one: OnePerProcess[GcPolicy] = OnePerProcess()


def install(hub) -> GcPolicy:
    """Start the process's policy on the current IO loop (idempotent)."""
    return _one.start(lambda: GcPolicy(hub))


get = _one.get
uninstall = _one.stop

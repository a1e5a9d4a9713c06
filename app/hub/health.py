"""Feed health as viewers see it.

``feed_health`` is the one rule for what the status line and ``/health`` say: the
feed's own state, with ``live`` downgraded to ``stale`` when watched symbols have been
quiet too long in their regular session, and to ``market closed`` while every watched
market is; the phase of the day (pre-market, after hours) goes with it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from app.feeds.base import Feed
from app.market_hours import Phase, symbol_phase
from app.ticks import FeedState

PhaseOf = Callable[[str, datetime], Phase]


@dataclass(frozen=True, slots=True)
class Health:
    """Feed health as the page and ``/health`` report it."""

    feed: str
    label: str
    state: FeedState
    last_error: str
    last_tick_age: float | None
    """Seconds since the last tick reached the hub; None before the first."""
    last_message_age: float | None
    """Seconds since the upstream last sent anything (keep-alives too)."""
    reconnects: int
    symbols: int
    sessions: int
    retry_at: float | None = None
    """While the feed waits to reconnect, when it will try (``time.time()``)."""
    upstream: str = ""
    """The provider behind the feed (differs from ``feed`` behind a relay)."""
    push_interval_s: float = 0.0
    """The current push interval (cadence)."""
    phase: Phase = Phase.REGULAR
    """The watched markets' phase of the day (:func:`watched_phase`)."""


def watched_phase(watched: list[str], at: datetime, phase_of: PhaseOf = symbol_phase,
                  default: str = "AAPL") -> Phase:
    """The phase the board is in: regular if any watched market is in its regular
    session, else pre-market or after hours if any is, else closed. Nothing watched: the
    stock market's (``default`` stands for it)."""
    phases = {phase_of(s, at) for s in watched or [default]}
    for phase in (Phase.REGULAR, Phase.PRE, Phase.POST):
        if phase in phases:
            return phase
    return Phase.CLOSED


def viewed_state(state: FeedState, watched: list[str], quiet_s: float, stale_after_s: float,
                 now_utc: Callable[[], datetime], phase_of: PhaseOf = symbol_phase,
                 phase: Phase | None = None) -> FeedState:
    """``state`` as viewers should see it after ``quiet_s`` seconds without a tick.

    While every watched market is closed it says so (a late print changes nothing);
    quiet is a fault only in a regular session: the extended hours trade thinly.
    """
    if state is not FeedState.LIVE or not watched:
        return state
    if phase is None:
        phase = watched_phase(watched, now_utc(), phase_of)
    if phase is Phase.CLOSED:
        return FeedState.MARKET_CLOSED
    if phase is Phase.REGULAR and quiet_s > stale_after_s:
        return FeedState.STALE
    return state


def feed_health(feed: Feed, *, watched: list[str], sessions: int,
                last_tick_mono: float | None, watched_since: float, stale_after_s: float,
                push_interval_s: float, now_utc: Callable[[], datetime],
                now_mono: float | None = None) -> Health:
    """The :class:`Health` of ``feed`` given what the hub saw of it, at ``now_mono``
    (``time.monotonic()`` unless given)."""
    now = time.monotonic() if now_mono is None else now_mono
    age = None if last_tick_mono is None else now - last_tick_mono
    # Quiet since the first watcher arrived, or since the last tick if later.
    quiet = now - max(last_tick_mono or 0.0, watched_since)
    phase = watched_phase(watched, now_utc(), feed.phase)
    state = viewed_state(FeedState(feed.state), watched, quiet, stale_after_s, now_utc,
                         phase=phase)
    msg = feed.last_message_mono  # the feed's own clock
    msg_age = None if msg is None else time.monotonic() - msg
    return Health(feed.feed_type, feed.label or feed.feed_type, state, feed.last_error,
                  age, msg_age, feed.reconnects, len(watched),
                  sessions, feed.retry_at, feed.upstream, push_interval_s, phase)

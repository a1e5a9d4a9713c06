"""Feed health as viewers see it.

``feed_health`` is the one rule for what the status line and ``/health`` say: the
feed's own state, with ``live`` downgraded to ``stale`` (or ``market closed``) when
watched symbols have been quiet too long.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from app.feeds.base import Feed
from app.hub.market_hours import symbol_open
from app.ticks import FeedState


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


def viewed_state(state: FeedState, watched: list[str], quiet_s: float, stale_after_s: float,
                 now_utc: Callable[[], datetime]) -> FeedState:
    """``state`` as viewers should see it after ``quiet_s`` seconds without a tick.

    Quiet is expected while every watched market is closed: not a fault.
    """
    if state is FeedState.LIVE and watched and quiet_s > stale_after_s:
        at = now_utc()
        return (FeedState.STALE if any(symbol_open(s, at) for s in watched)
                else FeedState.MARKET_CLOSED)
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
    state = viewed_state(FeedState(feed.state), watched, quiet, stale_after_s, now_utc)
    msg = feed.last_message_mono  # the feed's own clock
    msg_age = None if msg is None else time.monotonic() - msg
    return Health(feed.feed_type, feed.label or feed.feed_type, state, feed.last_error,
                  age, msg_age, feed.reconnects, len(watched),
                  sessions, feed.retry_at, feed.upstream, push_interval_s)

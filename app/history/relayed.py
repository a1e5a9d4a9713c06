"""History in ``photon relay``: the relay, which sees every trade, is the one writer.

The relay builds its upstream feed through :func:`relay_feed`; each feed it builds
(again after a standby takes over) hands its trades to the history writer through a
feed tap, and every symbol the relay starts streaming is backfilled. The writer also
puts the bars into Redis (:mod:`app.history.shared`), so servers on other hosts show
the same history. Servers reading the relay never write (:func:`service.open_history`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from app.feeds.base import Feed
from app.history.backfill import backfill_for
from app.history.service import SEED_SHARE, History
from app.history.shared import SharedBars
from app.ticks import Reference, Tick

#: How often the relay's history looks for newly streamed symbols to backfill.
FOLLOW_S = 1.0
#: Sparkline length the servers use by default, for the backfill's seeding arithmetic.
_MOST = int(240 * SEED_SHARE)


class HistoryTap:
    """A :class:`~app.feeds.base.FeedTap` handing the feed's trades to the writer."""

    def __init__(self, history: History):
        self.history = history

    def record_ticks(self, ticks: list[Tick]) -> None:
        if self.history.writer is not None:
            self.history.writer.sink(ticks)

    def record_reference(self, ref: Reference | None) -> None:
        """References are not history."""

    def close(self) -> None:
        """The feed stopped; the history outlives it (a standby may lead again)."""


class Follower:
    """Backfills each symbol the relay's current feed starts streaming (off its threads)."""

    def __init__(self, history: History):
        self.history = history
        self.feed: Feed | None = None
        self._seen: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="photon-history-follow",
                                        daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(FOLLOW_S):
            self.check()

    def check(self) -> None:
        feed = self.feed
        if feed is None or self.history.writer is None or self.history.backfill is None:
            return
        new = sorted(feed.symbols - self._seen)
        if new:
            self._seen.update(new)
            self.history._backfill(None, new, _MOST)

    def stop(self) -> None:
        self._stop.set()


def relay_feed(settings, make_feed: Callable[[], Feed]) -> tuple[Callable[[], Feed],
                                                                  History | None]:
    """(The relay's feed factory with history, the history) for ``settings``."""
    if settings.history == "off":
        return make_feed, None
    history = History(settings.history, days=settings.history_days, write=False,
                      shared=SharedBars(settings.redis_url))
    follower = Follower(history)

    def make() -> Feed:
        feed = make_feed()
        history.claim_writer()  # the leader writes; a standby on this host takes over
        history.backfill = backfill_for(feed, settings)
        history.resume(feed)  # a mock carries on from its last prices
        feed.add_tap(HistoryTap(history))
        follower.feed = feed
        return feed

    history.follower = follower
    return make, history

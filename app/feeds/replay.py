"""Replay a recording (:mod:`app.feeds.recording`) as a live feed: ``PHOTON_FEED=replay:PATH``.

Ticks come out with their original spacing (by receipt time) divided by ``speed``,
and with their original trade times, so the board shows when each trade happened.
``start`` skips that many seconds into the recording; ``loop`` starts over at the
end. Playing starts when the first symbol is watched, so a viewer sees it from the
beginning. The same recording replayed at any speed hands the hub the same ticks in the
same order, so what the board shows is reproducible.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from app.feeds.base import Feed
from app.feeds.recording import Recording, read
from app.ticks import FeedState, Reference, SymbolInfo

if TYPE_CHECKING:
    from app.config import Settings

PREFIX = "replay:"


def pacing(rx: list[float], speed: float, start_s: float = 0.0) -> list[tuple[int, float]]:
    """(index, seconds after the replay starts) of each tick played: pure scheduling.

    Ticks received before ``start_s`` into the recording are skipped; the others keep
    their spacing divided by ``speed``.
    """
    if not rx:
        return []
    begin = rx[0] + start_s
    return [(i, (t - begin) / speed) for i, t in enumerate(rx) if t >= begin]


class ReplayFeed(Feed):
    """A recording played back through the same interface as a live upstream."""

    feed_type = "replay"
    reference_is_fast = True

    def __init__(self, path: str, *, speed: float = 1.0, loop: bool = False,
                 start_s: float = 0.0, **params):
        super().__init__(**params)
        if speed <= 0:
            raise ValueError("replay speed must be above 0")
        self.path = path
        self.speed = speed
        self.loop = loop
        self.start_s = start_s
        self.recording: Recording = read(path)
        day = datetime.fromtimestamp(self.recording.started, UTC).strftime("%Y-%m-%d")
        self.label = f"Replay {speed:g}× of {self.recording.feed or 'a feed'}, recorded {day}"
        self.played = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> ReplayFeed:
        return cls(settings.feed[len(PREFIX):], speed=settings.replay_speed,
                   loop=settings.replay_loop, start_s=settings.replay_start_s)

    @property
    def upstream(self) -> str:
        return self.recording.feed or "replay"

    def universe(self) -> list[SymbolInfo]:
        return [SymbolInfo(s, f"{s} (recorded)") for s in self.recording.symbols]

    def reference(self, symbol: str) -> Reference | None:
        return self.recording.references.get(symbol)

    def _run(self) -> None:
        ticks = self.recording.ticks
        schedule = pacing([r.rx for r in ticks], self.speed, self.start_s)
        span = ticks[-1].tick.ts - ticks[0].tick.ts + 1.0 if ticks else 0.0
        rounds = 0
        self.state = FeedState.CONNECTING
        self.last_error = "waiting for a viewer to start the replay"
        while not self.symbols:  # the recording's clock starts with the first viewer
            if self._stop.wait(0.05):
                return
        while not self._stop.is_set():
            self.state = FeedState.LIVE
            self.last_error = ""
            began = time.monotonic()
            shift = rounds * span  # each loop later in time, or the hub keeps the last price
            for i, due in schedule:
                wait = began + due - time.monotonic()
                if wait > 0 and self._stop.wait(wait):
                    return
                self.last_message_mono = time.monotonic()
                self.played += 1
                tick = ticks[i].tick
                self._emit([replace(tick, ts=tick.ts + shift) if shift else tick])
            rounds += 1
            if not self.loop:
                break
        if not self._stop.is_set():
            self.state = FeedState.STOPPED
            self.last_error = f"end of the recording ({self.played} trades replayed)"

"""The status broadcaster (app.lanes.broadcast): health read once, sessions told only on change."""

from __future__ import annotations

import asyncio

from app.hub.hub import Hub
from app.lanes.broadcast import Broadcaster
from app.ticks import FeedState
from app.views.status import status_values
from tests.conftest import ManualFeed


class FakeDoc:
    def __init__(self):
        self.calls = []

    def add_next_tick_callback(self, fn):
        self.calls.append(fn)
        fn()


def test_sessions_hear_only_changes():
    async def scenario():
        feed = ManualFeed()
        hub = Hub(feed, push_interval_ms=3600000)
        b = Broadcaster(hub, status_values)
        try:
            seen = {1: [], 2: []}
            docs = {k: FakeDoc() for k in seen}
            for k in seen:
                b.add(k, docs[k], seen[k].append)
            b.tick()
            b.tick()  # nothing changed: nobody is told again
            assert [len(v) for v in seen.values()] == [1, 1]
            feed.state = FeedState.LIVE
            b.tick()
            assert seen[1][-1].state == FeedState.LIVE and len(seen[2]) == 2
            b.discard(2)
            feed.state = FeedState.DOWN
            b.tick()
            assert len(seen[1]) == 3 and len(seen[2]) == 2 and len(b) == 1
        finally:
            b.close()
            hub.stop()

    asyncio.run(scenario())

"""The references' hub publishes only when their push loop says so."""

from __future__ import annotations

import time

from app.feeds.mock import MockFeed
from bench.servers.refhub import LoopHub


def test_loop_hub_publishes_only_from_the_push_loop():
    hub = LoopHub(MockFeed(seed=3), push_interval_ms=20).start()
    try:
        sub = hub.subscribe(["SPY", "QQQ", "AAPL"])
        deadline = time.monotonic() + 30
        while hub.ticks_received < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert hub.ticks_received >= 20
        time.sleep(0.2)  # ten intervals: a clock thread of its own would have published
        assert hub.cycle == 0
        assert hub.publish() == 1
        sub.close()
    finally:
        hub.stop()

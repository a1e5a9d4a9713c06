"""What the history store gives the board beyond candles: the day's volume before the
live trades, the last prices a restarted mock carries on from, earlier days on request."""

from __future__ import annotations

import time

from app.feeds.mock import MockFeed
from app.history.backfill import MockBackfill
from app.history.bars import Bar, minute
from app.history.service import History
from app.history.store import BarStore
from app.hub.hub import Hub
from app.market_hours import last_sessions
from tests.conftest import ManualFeed
from tests.support import wait_until

BTC = "BINANCE:BTCUSDT"  # a UTC day: the test does not depend on the hour it runs at


def test_the_day_volume_on_record_counts_before_the_live_trades(tmp_path):
    path = tmp_path / "h.sqlite3"
    now = time.time()
    day_start, cut = int(now) - int(now) % 86400, minute(now)
    earlier = [t for t in range(max(day_start, cut - 600), cut, 60)]
    BarStore(path).backfill(BTC, [Bar(t, 5, 5, 5, 5, 1000) for t in earlier]
                            + [Bar(day_start - 60, 5, 5, 5, 5, 77),   # yesterday's
                               Bar(cut, 5, 5, 5, 5, 55)])            # live trades' minute
    feed = ManualFeed()
    hub = Hub(feed, push_interval_ms=20).start()
    history = History(path, write=False).attach(hub)
    try:
        with hub.subscribe([BTC]):
            feed.push(BTC, 6.0, time.time(), 3)
            want = 1000 * len(earlier) + 3
            wait_until(lambda: (q := hub.quote(BTC)) and q.volume == want, timeout=5,
                       what=f"volume {want}")
            assert history.day_volume(BTC, now) == (1000 * len(earlier),
                                                    (day_start, day_start + 86400))
    finally:
        history.close()
        hub.stop()


def test_a_restarted_mock_carries_on_from_its_last_stored_prices(tmp_path):
    path = tmp_path / "h.sqlite3"
    BarStore(path).backfill("AAPL", [Bar(1_796_000_000, 200, 201, 199, 200.5, 10),
                                     Bar(1_796_000_060, 200.5, 201, 199, 199.87, 10)])
    feed = MockFeed(seed=1)
    history = History(path, write=False)
    try:
        assert history.last_prices(["AAPL", "TSLA"]) == {"AAPL": 199.87}
        history.resume(feed)
        assert feed.market.price("AAPL") == 199.87
        assert feed.reference("AAPL").last == 199.87
        assert feed.market.price("TSLA") == 251.44  # nothing on record: the start price
    finally:
        history.close()


def test_earlier_days_are_backfilled_when_asked(tmp_path):
    feed = MockFeed(seed=2, hours="market")
    now = 1_796_745_600.0  # Tuesday 2026-12-08 15:00 UTC, in the session
    history = History(tmp_path / "h.sqlite3", flush_s=0.05,
                      backfill=MockBackfill(feed, clock=lambda: now))
    try:
        assert history.backfill_days("AAPL", 5, now) > 4 * 900
        days = last_sessions("AAPL", now, 5)
        wait_until(lambda: all(history.bars("AAPL", "1m", s, e) for s, e in days[:-1]),
                   timeout=10, what="four earlier days stored")
        stored = [history.bars("AAPL", "1m", s, e) for s, e in days[:-1]]
        for (start, _), bars, after in zip(days, stored, stored[1:], strict=False):
            assert bars[0].t == start and bars[-1].c == after[0].o  # no jump between days
        assert history.backfill_days("AAPL", 5, now) == 0  # on record now: nothing fetched
    finally:
        history.close()


def test_a_providers_earlier_days_are_fetched_off_the_callers_thread(tmp_path):
    import threading

    from app.history.backfill import Fetched

    class Slow:
        is_fast = False
        threads: list[str] = []

        def between(self, symbol, start, end, *, close=None):
            self.threads.append(threading.current_thread().name)
            return Fetched([Bar(start, 1, 1, 1, 1, 1)])

    history = History(tmp_path / "h.sqlite3", flush_s=0.05, backfill=Slow())
    try:
        assert history.request_days("AAPL", 3) is True
        wait_until(lambda: len(Slow.threads) == 2, timeout=5, what="two earlier days")
        assert all(name.startswith("photon-backfill") for name in Slow.threads)
        assert History(tmp_path / "r.sqlite3", write=False).request_days("AAPL", 3) is False
    finally:
        history.close()

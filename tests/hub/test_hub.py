"""The hub (app.hub.hub): ref-counted subscriptions, conflated cycles, history bound, health."""

from __future__ import annotations

import random
import threading
import time
from datetime import UTC, datetime

import pytest

from app.hub.hub import Hub
from app.ticks import FeedState
from tests.support import wait_until


@pytest.fixture
def hub(manual_feed):
    h = Hub(manual_feed, push_interval_ms=3600000, history_len=5)  # cycles driven by hand
    h.feed.start(h._on_ticks)
    yield h
    h.stop()


def test_upstream_asked_on_first_watcher_and_released_after_last(hub, manual_feed):
    a = hub.subscribe(["AAPL", "TSLA"])
    b = hub.subscribe(["AAPL"])
    assert hub.refcounts() == {"AAPL": 2, "TSLA": 1}
    assert manual_feed.symbols == {"AAPL", "TSLA"}
    a.close()
    assert hub.refcounts() == {"AAPL": 1}
    assert manual_feed.symbols == {"AAPL"}
    b.update(["MSFT"])
    assert hub.refcounts() == {"MSFT": 1}
    b.close()
    b.close()  # idempotent
    assert hub.refcounts() == {} and manual_feed.symbols == frozenset()
    assert hub.sessions == 0
    subs = [s for op, syms in manual_feed.sent if op == "subscribe" for s in syms]
    assert sorted(subs) == ["AAPL", "MSFT", "TSLA"]  # each asked of the upstream once


def test_ticks_are_conflated_into_one_quote_per_cycle(hub, manual_feed):
    sub = hub.subscribe(["AAPL"])
    hub.publish()
    for i, price in enumerate([101.0, 103.0, 102.0]):
        manual_feed.push("AAPL", price, ts=10.0 + i, size=10)
    c1 = hub.publish()
    changes = hub.changes_since(0, ["AAPL"])
    (q,) = changes.quotes
    assert (q.last, q.high, q.low, q.volume, q.prev_close) == (102.0, 103.0, 101.0, 30, 100.0)
    assert q.change_pct == pytest.approx(2.0)
    assert q.cycle == c1
    assert changes.points["AAPL"] == [(12.0, 102.0)]  # one point per cycle, not per tick
    assert changes.rows[0]["price"] == "$102.00"
    sub.close()


def test_each_cycle_carries_its_publication_time(hub, manual_feed):
    sub = hub.subscribe(["AAPL"])
    assert hub.changes_since(0, ["AAPL"]).at == 0.0  # nothing published yet
    manual_feed.push("AAPL", 101.0, ts=10.0)
    before = time.time()
    hub.publish()
    after = time.time()
    first = hub.changes_since(0, ["AAPL"]).at
    assert before <= first <= after and hub.cycle_at == first
    hub.publish()  # nothing changed: no new cycle, the time stays the cycle's
    assert hub.changes_since(0, ["AAPL"]).at == first
    sub.close()


def test_unchanged_symbols_send_nothing(hub, manual_feed):
    sub = hub.subscribe(["AAPL", "TSLA"])
    manual_feed.push("AAPL", 101.0, ts=1.0)
    manual_feed.push("TSLA", 201.0, ts=1.0)
    c = hub.publish()
    manual_feed.push("AAPL", 101.5, ts=2.0)
    hub.publish()
    changes = hub.changes_since(c, ["AAPL", "TSLA"])
    assert [q.symbol for q in changes.quotes] == ["AAPL"]
    assert hub.changes_since(changes.cycle, ["AAPL", "TSLA"]).quotes == []
    assert hub.publish() == changes.cycle  # nothing dirty: no new cycle
    sub.close()


def test_direction_follows_the_published_price(hub, manual_feed):
    sub = hub.subscribe(["AAPL"])
    directions = []
    for i, price in enumerate([100.0, 101.0, 101.0, 99.0]):
        manual_feed.push("AAPL", price, ts=float(i + 1))
        hub.publish()
        directions.append(hub.quote("AAPL").direction)
    assert directions == [0, 1, 0, -1]
    sub.close()


def test_history_is_bounded_and_ends_with_the_latest_prices(hub, manual_feed):
    sub = hub.subscribe(["AAPL"])
    for i in range(50):  # one minute of trades: the bound keeps its latest ones
        manual_feed.push("AAPL", 100.0 + i, ts=1.0 + i)
        hub.publish()
    hist = hub.history("AAPL")
    assert 4 <= len(hist) <= 5  # history_len 5, thinned to 4 once over (app/hub/sparkline.py)
    assert [p for _, p in hist] == [150.0 - len(hist) + k for k in range(len(hist))]
    sub.close()
    assert hub.history("AAPL") == []  # released symbols keep nothing


def test_ticks_for_unwatched_symbols_are_dropped(hub, manual_feed):
    sub = hub.subscribe(["AAPL"])
    hub._on_ticks([])  # harmless
    manual_feed.push("TSLA", 1.0, ts=1.0)
    hub.publish()
    assert hub.quote("TSLA") is None
    sub.close()


def test_concurrent_sessions_and_ticks_leave_no_refs(hub, manual_feed):
    symbols = ["AAPL", "TSLA", "GOOGL", "MSFT"]
    stop = threading.Event()
    errors: list[BaseException] = []

    def ticker():
        i = 0
        while not stop.is_set():
            i += 1
            manual_feed.push(random.choice(symbols), 100 + i % 7, ts=float(i))

    def publisher():
        while not stop.is_set():
            hub.publish()

    def session(seed: int):
        rng = random.Random(seed)
        try:
            for _ in range(200):
                with hub.subscribe(rng.sample(symbols, 2)) as sub:
                    sub.update(rng.sample(symbols, rng.randint(0, 4)))
                    hub.changes_since(0, sub.symbols)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    background = [threading.Thread(target=ticker), threading.Thread(target=publisher)]
    sessions = [threading.Thread(target=session, args=(i,)) for i in range(8)]
    for t in background + sessions:
        t.start()
    for t in sessions:
        t.join(60)
    stop.set()
    for t in background:
        t.join(10)
    assert not errors
    assert hub.refcounts() == {}
    assert manual_feed.symbols == frozenset()
    assert hub.sessions == 0


MARKET_OPEN = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # Tuesday 10:00 in New York
WEEKEND = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)  # Saturday


def test_health_reports_stale_when_ticks_stop(manual_feed):
    now = [1000.0]  # the hub's seconds, moved by hand: no race with a busy machine
    hub = Hub(manual_feed, push_interval_ms=50, stale_after_s=0.3,
              clock=lambda: MARKET_OPEN, monotonic=lambda: now[0]).start()
    try:
        sub = hub.subscribe(["AAPL"])
        wait_until(lambda: manual_feed.state == FeedState.LIVE, what="the feed live")
        manual_feed.push("AAPL", 101.0, ts=1.0)
        now[0] += 0.2
        health = hub.health()
        assert health.state == FeedState.LIVE and health.last_tick_age == pytest.approx(0.2)
        now[0] += 0.2  # 0.4 s without a tick, over stale_after_s
        health = hub.health()
        assert health.state == FeedState.STALE and health.last_tick_age == pytest.approx(0.4)
        assert (health.symbols, health.sessions) == (1, 1)
        manual_feed.push("AAPL", 102.0, ts=2.0)  # a tick: live again
        assert hub.health().state == FeedState.LIVE
        sub.close()
    finally:
        hub.stop()


def test_the_cycle_thread_publishes_on_its_own(manual_feed):
    hub = Hub(manual_feed, push_interval_ms=20).start()
    try:
        with hub.subscribe(["AAPL"]):
            manual_feed.push("AAPL", 123.0, ts=1.0)
            deadline = time.monotonic() + 5
            while (hub.quote("AAPL") is None or hub.quote("AAPL").last != 123.0) \
                    and time.monotonic() < deadline:
                time.sleep(0.01)
            assert hub.quote("AAPL").last == 123.0
    finally:
        hub.stop()


def test_a_slow_reference_never_blocks_the_subscribing_session():
    from tests.conftest import ManualFeed

    class SlowRefFeed(ManualFeed):
        reference_is_fast = False

        def __init__(self):
            super().__init__()
            self.release = threading.Event()
            self.called = threading.Event()
            self.finished = threading.Event()

        def reference(self, symbol):
            self.called.set()
            self.release.wait(10)
            self.finished.set()
            return super().reference(symbol)

    feed = SlowRefFeed()
    hub = Hub(feed, push_interval_ms=3600000)
    try:
        sub = hub.subscribe(["AAPL"])  # returns while the reference is still pending
        assert not feed.finished.is_set()
        assert feed.called.wait(5)
        feed.release.set()
        assert feed.finished.wait(5)

        def published_prev_close():
            hub.publish()
            q = hub.quote("AAPL")
            return q is not None and q.prev_close == 100.0

        deadline = time.monotonic() + 5
        while not published_prev_close():
            assert time.monotonic() < deadline
            time.sleep(0.01)
        sub.close()
    finally:
        feed.release.set()
        hub.stop()


@pytest.mark.parametrize(("clock", "symbols", "expected"), [
    (WEEKEND, ["AAPL"], FeedState.MARKET_CLOSED),
    (WEEKEND, ["AAPL", "BINANCE:BTCUSDT"], FeedState.STALE),  # crypto should be trading
    (MARKET_OPEN, ["AAPL"], FeedState.STALE),
])
def test_quiet_feed_is_market_closed_only_when_every_market_is(manual_feed, clock, symbols,
                                                                expected):
    manual_feed.hours = "market"  # the exchange's calendar (a feed built by hand has none)
    hub = Hub(manual_feed, push_interval_ms=3600000, stale_after_s=0.0, clock=lambda: clock)
    manual_feed.start(hub._on_ticks)
    try:
        sub = hub.subscribe(symbols)
        deadline = time.monotonic() + 5
        while manual_feed.state != FeedState.LIVE and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.01)
        assert hub.health().state == expected
        sub.close()
    finally:
        hub.stop()


def test_the_cycle_schedule_absorbs_late_wakeups_and_skips_missed_cycles():
    from app.hub.hub import schedule

    assert schedule(10.0, 9.9, 0.25) == (10.0, pytest.approx(0.1), 0)
    assert schedule(10.0, 10.1, 0.25) == (10.0, 0.0, 0)  # late: keep the cadence
    assert schedule(10.0, 10.6, 0.25) == (10.6, 0.0, 2)  # two cycles missed: re-anchor


def test_a_symbol_the_feed_will_not_stream_carries_the_reason(hub, manual_feed):
    sub = hub.subscribe(["AAPL", "TSLA"])
    hub.publish()
    seen = hub.cycle
    manual_feed.notes = {"TSLA": "not streamed: limit reached", "MSFT": "unwatched"}
    hub.publish()
    changes = hub.changes_since(seen, ["AAPL", "TSLA"])
    assert [(r["symbol"], r["note"]) for r in changes.rows] == [
        ("TSLA", "not streamed: limit reached")]
    assert hub.quote("MSFT") is None  # notes of unwatched symbols are ignored
    seen = hub.cycle
    manual_feed.notes = {}
    hub.publish()
    assert [(r["symbol"], r["note"]) for r in hub.changes_since(seen, ["TSLA"]).rows] == [
        ("TSLA", "")]
    assert hub.history("TSLA") == []  # a note alone draws no sparkline point
    sub.close()


def test_the_cadence_stretches_while_delivery_is_slow_and_health_says_so(manual_feed):
    hub = Hub(manual_feed, push_interval_ms=50, max_push_interval_ms=400).start()
    hub.add_listener(lambda cycle: hub.report_delivery(0.2))  # each fan-out takes 200 ms
    stop = threading.Event()

    def trades():
        price = 100.0
        while not stop.is_set():
            price += 0.01
            manual_feed.push("AAPL", price, ts=time.time())
            time.sleep(0.005)

    pump = threading.Thread(target=trades, daemon=True)
    try:
        hub.subscribe(["AAPL"])
        pump.start()
        wait_until(lambda: hub.push_interval_ms > 300, what="a stretched cadence")
        assert hub.push_interval_ms <= 400  # the ceiling holds
        assert round(hub.health().push_interval_s * 1000) == hub.push_interval_ms
    finally:
        stop.set()
        pump.join(5)
        hub.stop()

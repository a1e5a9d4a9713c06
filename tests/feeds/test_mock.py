"""The mock market (app.feeds.mock): determinism, sanity of prices, trade rates."""

import time
from collections import Counter

from app.feeds.mock import UNIVERSE, MockFeed, MockMarket
from app.ticks import FeedState


def run(market: MockMarket, symbols, seconds: float, dt: float = 0.05):
    ticks = []
    for i in range(int(seconds / dt)):
        ticks += market.step(symbols, dt, now=i * dt)
    return ticks


def test_same_seed_same_ticks_different_seed_different_ticks():
    syms = ["AAPL", "TSLA", "BINANCE:BTCUSDT"]
    a = run(MockMarket(seed=42), syms, 5)
    b = run(MockMarket(seed=42), syms, 5)
    c = run(MockMarket(seed=43), syms, 5)
    assert a == b
    assert a != c


def test_universe_is_broad_and_plausible():
    symbols = {i.symbol for i in UNIVERSE}
    assert len(symbols) >= 30
    assert {"AAPL", "TSLA", "GOOGL", "MSFT", "AMZN", "NVDA", "META"} <= symbols
    assert any(":" in s for s in symbols)  # crypto pairs
    for ins in UNIVERSE:
        assert ins.price > 0 and ins.prev_close > 0
        assert abs(ins.price / ins.prev_close - 1) < 0.05


def test_prices_stay_positive_and_near_their_start_over_a_long_run():
    market = MockMarket(seed=1)
    syms = [i.symbol for i in UNIVERSE]
    ticks = run(market, syms, 600, dt=0.5)  # ten simulated minutes
    assert all(t.price > 0 and t.size > 0 for t in ticks)
    for ins in UNIVERSE:
        assert 0.7 < market.price(ins.symbol) / ins.price < 1.3


def test_every_symbol_trades_and_changes_at_least_once_a_second():
    market = MockMarket(seed=3)
    syms = [i.symbol for i in UNIVERSE]
    dt = 0.05
    last_change = {s: 0.0 for s in syms}
    last_price = {s: market.price(s) for s in syms}
    worst = 0.0
    for i in range(1, int(30 / dt)):
        now = i * dt
        for t in market.step(syms, dt, now):
            if t.price != last_price[t.symbol]:
                worst = max(worst, now - last_change[t.symbol])
                last_change[t.symbol] = now
                last_price[t.symbol] = t.price
    worst = max(worst, max(30 - dt - v for v in last_change.values()))
    assert worst <= 1.0


def test_busy_names_trade_several_times_a_second():
    counts = Counter(t.symbol for t in run(MockMarket(seed=5), ["NVDA", "KO"], 60))
    assert counts["NVDA"] / 60 >= 5
    assert counts["KO"] / 60 >= 1
    assert counts["NVDA"] > counts["KO"]


def wait_for(cond, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_feed_thread_delivers_only_subscribed_symbols():
    got = []
    feed = MockFeed(seed=9)
    feed.start(got.extend)
    try:
        feed.subscribe(["AAPL"])
        wait_for(lambda: got)
        assert feed.state == FeedState.LIVE
        feed.unsubscribe(["AAPL"])
        feed.subscribe(["MSFT"])
        # Each step trades the symbols as they were when it began: once MSFT trades, no
        # step can still trade AAPL. Wait for that, then for ten more MSFT trades.
        wait_for(lambda: any(t.symbol == "MSFT" for t in got))
        first = next(i for i, t in enumerate(got) if t.symbol == "MSFT")
        wait_for(lambda: len(got) >= first + 11)
        assert {t.symbol for t in got} == {"AAPL", "MSFT"}
        assert {t.symbol for t in got[first:]} == {"MSFT"}
    finally:
        feed.stop()
    assert feed.state == FeedState.STOPPED


def test_reference_gives_previous_close_for_known_symbols_only():
    feed = MockFeed(seed=1)
    ref = feed.reference("AAPL")
    assert ref is not None and ref.prev_close > 0 and ref.last > 0
    assert feed.reference("NOPE") is None

"""The mock keeps the exchange's day: thin in the extended hours, silent when closed,
crypto around the clock; it resumes from given prices (app/feeds/mock.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from app.feeds.mock import MockFeed, MockMarket
from app.market_hours import Phase
from app.ticks import FeedState
from tests.support import wait_until


def trades(phase: Phase, symbol: str = "AAPL", seconds: int = 600) -> int:
    market = MockMarket(seed=5)
    return sum(len(market.step([symbol], 0.05, 0.0, {symbol: phase}))
               for _ in range(seconds * 20))


def test_the_mock_trades_a_tenth_as_much_in_the_extended_hours_and_not_when_closed():
    regular, pre, post = trades(Phase.REGULAR), trades(Phase.PRE), trades(Phase.POST)
    assert 0.05 * regular < pre < 0.2 * regular and 0.05 * regular < post < 0.2 * regular
    assert trades(Phase.CLOSED) == 0


def test_the_mock_feed_reads_the_phase_from_its_clock():
    saturday = datetime(2026, 12, 5, 15, 0, tzinfo=UTC).timestamp()
    evening = datetime(2026, 12, 7, 22, 0, tzinfo=UTC).timestamp()
    feed = MockFeed(seed=1, hours="market", clock=lambda: saturday)
    phases = feed.phases(["AAPL", "TSLA", "BINANCE:BTCUSDT"], saturday)
    assert phases == {"AAPL": Phase.CLOSED, "TSLA": Phase.CLOSED,
                      "BINANCE:BTCUSDT": Phase.REGULAR}
    assert feed.phases(["AAPL"], evening) == {"AAPL": Phase.POST}
    assert MockFeed(hours="pre").phases(["AAPL"], saturday) == {"AAPL": Phase.PRE}

    got: list = []
    feed.start(got.extend)
    try:
        feed.subscribe(["AAPL", "BINANCE:BTCUSDT"])
        wait_until(lambda: feed.state is FeedState.LIVE and len(got) >= 5, timeout=10,
                   what="bitcoin trading on a Saturday")
        assert {t.symbol for t in got} == {"BINANCE:BTCUSDT"}  # the stock market is shut
        assert all(t.ts == saturday for t in got)  # stamped by the feed's clock
    finally:
        feed.stop()


def test_the_mock_resumes_from_the_last_prices_given():
    market = MockMarket(seed=1)
    taken = market.resume({"AAPL": 199.871, "NOPE": 5.0, "TSLA": float("nan"), "MSFT": -1})
    assert taken == 1 and market.price("AAPL") == 199.87 and market.price("TSLA") == 251.44
    tick = market.step(["AAPL"], 1.0, 0.0)[0]
    assert abs(tick.price / 199.87 - 1) < 0.01  # carries on from there, no jump

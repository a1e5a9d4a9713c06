"""Backfill per provider: the mock's seeded day, a replay's recording, Alpaca's and
Finnhub's REST bars (fakes on loopback), sessions by the market calendar."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.feeds.mock import MockFeed
from app.feeds.replay import ReplayFeed
from app.feeds.restkit import TokenBucket
from app.history.backfill import (
    NO_PLAN,
    AlpacaBackfill,
    FinnhubBackfill,
    MockBackfill,
    ReplayBackfill,
    last_session,
    mock_session,
)
from app.history.bars import fold
from app.history.service import History
from app.hub.hub import Hub
from tests.fakes.alpaca_fake import FakeAlpaca
from tests.fakes.finnhub_fake import FakeFinnhub
from tests.support import wait_until

RECORDING = Path(__file__).resolve().parents[2] / "recordings" / "mock-demo.jsonl.gz"


def ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


# Friday 2026-12-04: the session is 14:30-21:00 UTC (EST). Christmas 2026 is a Friday:
# Saturday 26th shows Thursday 24th, an early close (13:00 New York).
FRI_OPEN, FRI_CLOSE = ts("2026-12-04T14:30:00"), ts("2026-12-04T21:00:00")


@pytest.mark.parametrize(("now", "expected"), [
    ("2026-12-05T15:00:00", (FRI_OPEN, FRI_CLOSE)),  # Saturday shows Friday
    ("2026-12-07T13:00:00", (FRI_OPEN, FRI_CLOSE)),  # Monday before the open: Friday
    ("2026-12-04T16:00:42", (FRI_OPEN, ts("2026-12-04T16:00:00"))),  # in session: so far
    ("2026-12-04T23:00:00", (FRI_OPEN, FRI_CLOSE)),  # after the close: the whole day
    ("2026-12-26T15:00:00", (ts("2026-12-24T14:30:00"), ts("2026-12-24T18:00:00"))),
])
def test_last_session_follows_the_calendar(now, expected):
    assert last_session("AAPL", ts(now)) == tuple(int(x) for x in expected)


def test_crypto_has_the_last_24_hours():
    now = ts("2026-12-05T15:00:30")
    assert last_session("BINANCE:BTCUSDT", now) == (int(now) - 30 - 86400, int(now) - 30)


def test_mock_session_is_seeded_plausible_and_ends_at_the_price():
    args = dict(first=100.0, last=103.5, vol=0.0006, rate=8.0, lot=100, seed=7)
    bars = mock_session("AAPL", int(FRI_OPEN), int(FRI_CLOSE), **args)
    assert bars == mock_session("AAPL", int(FRI_OPEN), int(FRI_CLOSE), **args)
    assert len(bars) == 390 and bars[0].t == FRI_OPEN and bars[-1].t == FRI_CLOSE - 60
    assert bars[0].o == 100.0 and bars[-1].c == 103.5
    assert all(b.l <= min(b.o, b.c) <= max(b.o, b.c) <= b.h and b.v > 0 for b in bars)
    assert all(abs(b.c / b.o - 1) < 0.02 for b in bars)  # no wild minute
    assert max(b.h for b in bars) / min(b.l for b in bars) < 1.2  # a day, not a crash


def test_mock_backfill_is_the_last_trading_day_with_its_thin_extended_hours():
    feed = MockFeed(seed=3, hours="market")  # a Saturday: Friday's day, 04:00 to 20:00 New York
    bars = MockBackfill(feed, clock=lambda: ts("2026-12-05T15:00:00")).session("NVDA").bars
    assert bars[-1].c == feed.market.price("NVDA") and len(bars) == 960
    assert bars[0].t == FRI_OPEN - 330 * 60 and bars[-1].t == FRI_CLOSE + 239 * 60
    regular = [b.v for b in bars if FRI_OPEN <= b.t < FRI_CLOSE]
    extended = [b.v for b in bars if not FRI_OPEN <= b.t < FRI_CLOSE]
    assert len(regular) == 390 and sum(extended) / 570 < sum(regular) / 390 / 4
    assert MockBackfill(feed).session("NOPE").bars == []


def test_mock_backfill_of_an_earlier_day_ends_where_the_next_one_opens():
    feed = MockFeed(seed=3)
    back = MockBackfill(feed, clock=lambda: ts("2026-12-05T15:00:00"))
    start, end = int(FRI_OPEN) - 86400 - 330 * 60, int(FRI_CLOSE) - 86400 + 240 * 60
    bars = back.between("NVDA", start, end, close=130.0).bars
    assert len(bars) == 960 and bars[-1].c == 130.0 and bars[0].t == start
    assert bars == back.between("NVDA", start, end, close=130.0).bars  # seeded
    assert MockFeed(hours="closed").market and MockBackfill(
        MockFeed(hours="closed")).between("NVDA", start, end).bars == []  # never traded


def test_replay_backfill_is_the_recording_before_its_start():
    feed = ReplayFeed(str(RECORDING), start_s=30)
    bars = ReplayBackfill(feed).session("AAPL").bars
    rec = feed.recording.ticks
    begin = rec[0].rx + 30
    expected = fold(r.tick for r in rec if r.rx < begin and r.tick.symbol == "AAPL")
    assert bars == sorted(expected.values(), key=lambda b: b.t) and bars


def test_after_a_replay_history_equals_the_recordings_bars(tmp_path):
    feed = ReplayFeed(str(RECORDING), speed=50)
    hub = Hub(feed, push_interval_ms=50).start()
    history = History(tmp_path / "h.sqlite3", days=100_000, flush_s=0.05).attach(hub)
    try:
        sub = hub.subscribe(feed.recording.symbols)
        wait_until(lambda: feed.state == "stopped", timeout=30, what="the replay's end")
        history.writer.flush()
        for sym in feed.recording.symbols:
            expected = fold(r.tick for r in feed.recording.ticks if r.tick.symbol == sym)
            assert history.bars(sym) == sorted(expected.values(), key=lambda b: b.t), sym
        sub.close()
    finally:
        history.close()
        hub.stop()


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_alpaca_bars_paged_and_under_the_rest_budget():
    with FakeAlpaca("kid", "ksecret") as fake:
        fake.bars["AAPL"] = [{"t": _iso(FRI_OPEN + 60 * i), "o": 10 + i, "h": 11 + i,
                              "l": 9 + i, "c": 10.5 + i, "v": 100 + i, "n": 3, "vw": 10}
                             for i in range(390)]
        fake.page_size = 150
        limiter = TokenBucket(0.6, burst=3)  # three calls now, then one a 100 s
        backfill = AlpacaBackfill("kid", "ksecret", fake.rest_url, limiter,
                                  clock=lambda: ts("2026-12-05T15:00:00"))
        got = backfill.session("AAPL")
        assert len(got.bars) == 390 and got.bars[0].t == FRI_OPEN and got.bars[5].c == 15.5
        assert len(fake.bars_requests) == 3  # three pages, three calls of the budget
        first = fake.bars_requests[0]
        assert (first["symbols"], first["timeframe"], first["feed"]) == ("AAPL", "1Min", "iex")
        assert first["start"] == _iso(FRI_OPEN) and first["end"] == _iso(FRI_CLOSE)
        # The budget is spent: the next backfill makes no call at all.
        assert backfill.session("MSFT").bars == [] and len(fake.bars_requests) == 3


def test_finnhub_candles_and_a_free_keys_403_noted_once():
    with FakeFinnhub() as fake:
        fake.candles["AAPL"] = [{"t": int(FRI_OPEN) + 60 * i, "o": 1, "h": 2, "l": 0.5,
                                 "c": 1.5, "v": 10} for i in range(390)]
        backfill = FinnhubBackfill(fake.token, fake.rest_url, None,
                                   clock=lambda: ts("2026-12-05T15:00:00"))
        assert len(backfill.session("AAPL").bars) == 390
        assert backfill.session("ZZZ").bars == []  # no_data
        fake.candle_mode = "403"
        refused = FinnhubBackfill(fake.token, fake.rest_url, None)
        before = len(fake.candle_requests)
        notes = [refused.session(s).note for s in ("AAPL", "TSLA", "NVDA", "AAPL")]
        assert notes == [NO_PLAN] * 4
        assert len(fake.candle_requests) == before + 1  # one call, no retry storm


def test_an_alpaca_symbol_shows_the_providers_bars_on_first_subscription(tmp_path):
    from tests.conftest import ManualFeed

    with FakeAlpaca("kid", "ksecret") as fake:
        backfill = AlpacaBackfill("kid", "ksecret", fake.rest_url, None)
        start, end = backfill.window("AAPL")
        fake.bars["AAPL"] = [{"t": _iso(start + 60 * i), "o": 10, "h": 11, "l": 9,
                              "c": 10.0 + i / 100, "v": 100} for i in range((end - start) // 60)]
        hub = Hub(ManualFeed(), push_interval_ms=50).start()
        history = History(tmp_path / "h.sqlite3", flush_s=0.05, backfill=backfill).attach(hub)
        try:
            sub = hub.subscribe(["AAPL"])  # fetched off the subscribing thread
            wait_until(lambda: len(history.bars("AAPL", "1m", start, end))
                       == len(fake.bars["AAPL"]), timeout=10, what="the provider's bars")
            wait_until(lambda: len(hub.history("AAPL")) > 10, timeout=5, what="seeded points")
            sub.close()
        finally:
            history.close()
            hub.stop()


def test_each_feed_gets_its_backfill_sharing_the_feeds_rest_budget(tmp_path):
    from app.config import load_settings
    from app.feeds.registry import upstream_feed
    from app.history.backfill import backfill_for

    for feed_name, kind in (("mock", MockBackfill), ("alpaca", AlpacaBackfill),
                            ("finnhub", FinnhubBackfill),
                            (f"replay:{RECORDING}", ReplayBackfill)):
        settings = load_settings({"PHOTON_FEED": feed_name, "FINNHUB_API_KEY": "k",
                                  "ALPACA_API_KEY_ID": "a", "ALPACA_API_SECRET_KEY": "b"},
                                 env_file=tmp_path / "none")
        feed = upstream_feed(settings)
        backfill = backfill_for(feed, settings)
        assert isinstance(backfill, kind), feed_name
        if isinstance(backfill, AlpacaBackfill | FinnhubBackfill):
            assert backfill.limiter is feed._rest.limiter

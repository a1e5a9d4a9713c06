"""The Finnhub adapter against a local fake Finnhub: protocol, failures, limits, secrecy."""

from __future__ import annotations

import logging
import time

import pytest
import requests

from app.config import Secret, Settings
from app.feeds import backoff
from app.feeds.backoff import full_jitter
from app.feeds.finnhub import AUTH_FAILED, NO_KEY, FinnhubFeed, RecentTrades, parse_trades
from app.feeds.finnhub_rest import QuoteClient, RestError, TokenBucket, redact
from app.feeds.registry import feed_class
from app.hub.hub import Hub
from app.ticks import FeedState, Tick
from tests.fakes import wait_until
from tests.feeds.conftest import FAKE_KEY

T0 = 1_700_000_000_000  # ms, as Finnhub sends it
AAPL_QUOTE = {"c": 227.5, "d": 1.9, "dp": 0.84, "h": 228.1, "l": 225.0, "o": 225.6,
              "pc": 225.6, "t": 1_700_000_000}


def trade(symbol: str, price: float, t: int = T0, v: float = 100, **extra) -> dict:
    return {"s": symbol, "p": price, "t": t, "v": v, **extra}


def states_of(feed: FinnhubFeed) -> list[tuple[FeedState, str]]:
    """Record every state change with the last_error at that moment."""
    seen: list[tuple[FeedState, str]] = []
    feed.param.watch(lambda e: seen.append((e.new, feed.last_error)), "state")
    return seen


# -- trades ----------------------------------------------------------------------
def test_trades_reach_the_sink_with_seconds_timestamps(live, fake, sink):
    fake.trades(trade("AAPL", 227.51, T0 + 250, 30, c=["1", "12"]))
    fake.trades(trade("TSLA", 251.4, T0 + 500, 0, c=[]), {"s": "TSLA", "p": 251.5, "t": T0 + 600})
    ticks = sink.wait_for(3)
    assert ticks == [Tick("AAPL", 227.51, 30.0, (T0 + 250) / 1000),
                     Tick("TSLA", 251.4, 0.0, (T0 + 500) / 1000),
                     Tick("TSLA", 251.5, 0.0, (T0 + 600) / 1000)]
    assert live.state == FeedState.LIVE


def test_batched_message_across_symbols_keeps_only_subscribed(live, fake, sink):
    fake.trades(trade("AAPL", 1.0, T0), trade("MSFT", 2.0, T0), trade("TSLA", 3.0, T0 + 1),
                trade("AAPL", 1.1, T0 + 2))
    fake.trades(trade("AAPL", 1.2, T0 + 3))  # a marker: everything before it has arrived
    wait_until(lambda: any(t.price == 1.2 for t in sink.ticks))
    assert [(t.symbol, t.price) for t in sink.ticks] == [
        ("AAPL", 1.0), ("TSLA", 3.0), ("AAPL", 1.1), ("AAPL", 1.2)]


def test_ping_and_unknown_types_are_ignored(live, fake, sink):
    fake.ping()
    fake.send({"type": "news", "data": [{"headline": "hello"}]})
    fake.send({"no_type": True})
    fake.trades(trade("AAPL", 5.0))
    sink.wait_for(1)
    assert live.unknown_count == 2
    assert live.malformed_count == 0
    assert live.state == FeedState.LIVE
    assert len(fake.connections) == 1


def test_error_frame_is_surfaced_and_the_stream_goes_on(live, fake, sink):
    fake.error("Subscribing to too many symbols")
    wait_until(lambda: "Subscribing to too many symbols" in live.last_error)
    fake.trades(trade("AAPL", 5.0))
    sink.wait_for(1)
    assert live.state == FeedState.LIVE
    assert len(fake.connections) == 1


def test_malformed_messages_are_skipped_counted_and_the_connection_kept(live, fake, sink):
    fake.send("this is not json {")
    fake.send("[1, 2, 3]")
    fake.send({"type": "trade", "data": "not a list"})
    fake.trades(
        {"p": 1.0, "t": T0},                          # no symbol
        {"s": "AAPL", "p": "abc", "t": T0},           # price not a number
        {"s": "AAPL", "p": 1.0},                      # no time
        {"s": "AAPL", "p": -1.0, "t": T0},            # impossible price
        "not an object",
        trade("AAPL", 7.5, T0 + 1),                   # the only good one
    )
    assert sink.wait_for(1) == [Tick("AAPL", 7.5, 100.0, (T0 + 1) / 1000)]
    assert live.malformed_count == 8
    assert live.state == FeedState.LIVE
    assert len(fake.connections) == 1


def test_duplicates_dropped_and_out_of_order_passed_on(live, fake, sink):
    fake.trades(trade("AAPL", 10.0, T0 + 5), trade("AAPL", 10.0, T0 + 5),  # exact repeat
                trade("AAPL", 10.0, T0 + 5, v=200),                        # other size
                trade("AAPL", 9.0, T0 + 1))                                # older: kept
    fake.trades(trade("AAPL", 10.0, T0 + 5))  # repeat in a later message
    fake.trades(trade("TSLA", 1.0, T0))       # marker
    wait_until(lambda: any(t.symbol == "TSLA" for t in sink.ticks))
    assert [(t.price, t.size, t.ts) for t in sink.ticks if t.symbol == "AAPL"] == [
        (10.0, 100.0, (T0 + 5) / 1000), (10.0, 200.0, (T0 + 5) / 1000),
        (9.0, 100.0, (T0 + 1) / 1000)]
    assert live.duplicate_count == 2


# -- subscriptions ----------------------------------------------------------------
def test_one_frame_per_symbol_and_unsubscribe(live, fake):
    conn = fake.current
    live.subscribe(["MSFT", "BINANCE:BTCUSDT", "AAPL"])
    live.unsubscribe(["TSLA", "NOPE"])
    wait_until(lambda: conn.subscribed == {"AAPL", "MSFT", "BINANCE:BTCUSDT"})
    assert sorted(conn.sent("subscribe")) == ["AAPL", "BINANCE:BTCUSDT", "MSFT", "TSLA"]
    assert conn.sent("unsubscribe") == ["TSLA"]
    assert all(set(f) == {"type", "symbol"} for f in conn.frames)


def test_symbol_cap_refuses_the_extra_symbols_until_room_frees(make_feed, fake, sink):
    feed = make_feed(max_symbols=3)
    feed.start(sink)
    conn = fake.wait_connection(1)
    wait_until(lambda: feed.state == FeedState.LIVE)
    feed.subscribe(["AAPL", "TSLA", "MSFT", "NVDA", "AMD"])
    assert feed.symbols == {"AAPL", "TSLA", "MSFT"}
    assert "NVDA" in feed.last_error and "AMD" in feed.last_error
    assert "AAPL" not in feed.last_error
    assert set(feed.unavailable()) == {"NVDA", "AMD"}
    assert "3-symbol limit" in feed.unavailable()["NVDA"]
    wait_until(lambda: conn.subscribed == {"AAPL", "TSLA", "MSFT"})
    feed.unsubscribe(["TSLA"])  # room for the longest-waiting one
    wait_until(lambda: conn.subscribed == {"AAPL", "MSFT", "NVDA"})
    assert set(feed.unavailable()) == {"AMD"} and "AMD" not in conn.sent("subscribe")
    feed.unsubscribe(["AMD"])  # nobody wants it any more: it stops waiting
    feed.unsubscribe(["MSFT"])
    assert feed.unavailable() == {} and feed.symbols == {"AAPL", "NVDA"}
    assert feed.last_error == ""
    wait_until(lambda: conn.subscribed == {"AAPL", "NVDA"})
    assert "AMD" not in conn.sent("subscribe")


# -- connection management --------------------------------------------------------
@pytest.mark.parametrize("clean", [False, True], ids=["abrupt", "close-frame"])
def test_drop_reconnects_and_resubscribes_every_active_symbol(live, fake, sink, clean):
    seen = states_of(live)
    retries: list[float | None] = []
    live.param.watch(lambda e: retries.append(live.retry_at), "state")
    first = fake.current
    live.subscribe(["BINANCE:BTCUSDT"])
    live.unsubscribe(["TSLA"])
    wait_until(lambda: first.subscribed == {"AAPL", "BINANCE:BTCUSDT"})
    fake.drop(clean=clean)
    second = fake.wait_connection(2)
    wait_until(lambda: second.subscribed == {"AAPL", "BINANCE:BTCUSDT"})
    wait_until(lambda: live.state == FeedState.LIVE)
    assert sorted(second.sent("subscribe")) == ["AAPL", "BINANCE:BTCUSDT"]
    assert first.duplicate_subscribes == second.duplicate_subscribes == []
    assert live.reconnects >= 1
    down = [err for state, err in seen if state == FeedState.DOWN]
    assert down and "disconnected" in down[0]
    # While down, when the next attempt is due (for the page's countdown); none once live.
    due = [r for (state, _), r in zip(seen, retries, strict=True) if state == FeedState.DOWN]
    assert due[0] is not None and abs(due[0] - time.time()) < 5
    assert live.retry_at is None
    fake.trades(trade("AAPL", 3.0), conn=second)
    sink.wait_for(1)


def test_changes_while_disconnected_are_applied_on_reconnect(live, fake):
    first = fake.current
    fake.ws_refuse_status = 503  # reconnects fail until we allow them
    fake.drop()
    wait_until(lambda: first.closed and fake.ws_attempts >= 3, what="refused reconnects")
    assert live.state in (FeedState.DOWN, FeedState.CONNECTING)
    assert "503" in live.last_error
    live.subscribe(["MSFT", "NVDA"])  # must not raise, must not be lost
    live.unsubscribe(["TSLA", "NVDA"])
    fake.ws_refuse_status = None
    second = wait_until(lambda: fake.current if fake.current is not first else None)
    wait_until(lambda: second.subscribed == {"AAPL", "MSFT"})
    assert second.sent("subscribe").count("AAPL") == 1
    assert second.sent("unsubscribe") == []


def test_auth_failure_is_reported_and_retried_slowly(make_feed, fake, sink):
    wrong = "sk-wrong-KEY-456"
    feed = make_feed(api_key=wrong, auth_retry_s=0.5)
    feed.subscribe(["AAPL"])
    feed.start(sink)
    wait_until(lambda: feed.state == FeedState.AUTH_FAILED)
    assert feed.last_error == AUTH_FAILED
    wait_until(lambda: fake.ws_attempts >= 2, what="a slow retry")  # it does retry
    before, t0 = fake.ws_attempts, time.monotonic()
    time.sleep(2.0)
    attempts, elapsed = fake.ws_attempts - before, time.monotonic() - t0
    assert attempts <= elapsed / 0.5 + 2  # ~one per auth_retry_s, not a hammering loop
    assert feed.state == FeedState.AUTH_FAILED
    assert fake.connections == [] and fake.ws_rejected == fake.ws_attempts
    assert wrong not in repr(feed) and wrong not in feed.last_error


def test_missing_key_does_not_connect(make_feed, fake, sink):
    feed = make_feed(api_key=Secret(""))
    feed.start(sink)
    wait_until(lambda: feed.state == FeedState.AUTH_FAILED)
    assert feed.last_error == NO_KEY
    assert fake.ws_attempts == 0


def test_silent_stall_is_detected_and_reconnected(make_feed, fake, sink):
    feed = make_feed(stall_timeout_s=1.0)
    seen = states_of(feed)
    feed.subscribe(["AAPL"])
    feed.start(sink)
    first = fake.wait_connection(1)
    second = fake.wait_connection(2, timeout=15)  # the fake says nothing after the open
    wait_until(lambda: second.subscribed == {"AAPL"})
    assert first.closed
    assert any(s == FeedState.DOWN and "stalled" in err for s, err in seen)


def test_pings_keep_a_quiet_connection_alive(make_feed, fake, sink):
    feed = make_feed(stall_timeout_s=3.0)
    feed.start(sink)
    conn = fake.wait_connection(1)
    deadline = time.monotonic() + 4.5
    while time.monotonic() < deadline:
        fake.ping(conn)
        time.sleep(0.2)
    assert not conn.closed and len(fake.connections) == 1
    assert feed.state == FeedState.LIVE


def test_hung_handshake_times_out_and_retries(make_feed, fake, sink):
    fake.ws_hang = True
    feed = make_feed(connect_timeout_s=0.5)
    seen = states_of(feed)
    feed.start(sink)
    wait_until(lambda: any("handshake timed out" in err for _, err in seen))
    fake.ws_hang = False
    fake.wait_connection(1)
    wait_until(lambda: feed.state == FeedState.LIVE)


def test_stop_is_prompt_and_final(live, fake):
    conn = fake.current
    t0 = time.monotonic()
    live.stop()
    assert time.monotonic() - t0 < 3.0  # generous; it is a socket shutdown
    assert not live.running
    assert live.state == FeedState.STOPPED
    wait_until(lambda: conn.closed)
    time.sleep(0.3)
    assert len(fake.connections) == 1  # no reconnect after stop


def test_stop_during_backoff_is_prompt(make_feed, fake, sink):
    fake.ws_refuse_status = 503
    feed = make_feed(backoff_base_s=30.0, backoff_cap_s=30.0)
    feed.start(sink)
    wait_until(lambda: feed.state == FeedState.DOWN)
    t0 = time.monotonic()
    feed.stop()
    assert time.monotonic() - t0 < 3.0
    assert not feed.running


# -- the hub under a burst -------------------------------------------------------
def test_burst_of_10000_trades_is_conflated_by_the_hub(make_feed, fake):
    fake.quotes["AAPL"] = AAPL_QUOTE
    feed = make_feed()
    hub = Hub(feed, push_interval_ms=50, history_len=20).start()
    try:
        sub = hub.subscribe(["AAPL", "TSLA"])
        conn = fake.wait_connection(1)
        wait_until(lambda: conn.subscribed == {"AAPL", "TSLA"})
        n, per_message = 10_000, 500
        prices = {"AAPL": [], "TSLA": []}
        for start in range(0, n, per_message):
            batch = []
            for i in range(start, start + per_message):
                sym = "AAPL" if i % 2 else "TSLA"
                price = round(100 + (i % 97) * 0.01, 2)
                prices[sym].append(price)
                batch.append(trade(sym, price, T0 + i, v=1))
            fake.trades(*batch, conn=conn)
        wait_until(lambda: hub.ticks_received == n, timeout=30, what="all ticks in the hub")
        wait_until(lambda: (q := hub.quote("AAPL")) is not None and q.volume == n / 2)
        aapl, tsla = hub.quote("AAPL"), hub.quote("TSLA")
        assert aapl.last == prices["AAPL"][-1] and tsla.last == prices["TSLA"][-1]
        assert aapl.prev_close == AAPL_QUOTE["pc"]
        assert tsla.volume == n / 2
        assert len(hub.changes_since(0, ["AAPL", "TSLA"]).quotes) == 2  # one quote each
        assert hub.cycle < n / 10  # conflated: far fewer publications than trades
        for sym in ("AAPL", "TSLA"):
            assert len(hub.history(sym)) <= 20
        assert len(feed._recent) <= 2 * feed._recent.per_symbol
        sub.close()
        wait_until(lambda: conn.subscribed == set())
        assert len(feed._recent) == 0
    finally:
        hub.stop()


# -- REST reference prices ---------------------------------------------------------
def test_reference_from_quote_unknown_symbol_and_cache(make_feed, fake):
    fake.quotes["AAPL"] = AAPL_QUOTE
    feed = make_feed()
    ref = feed.reference("AAPL")
    assert (ref.symbol, ref.prev_close, ref.open, ref.high, ref.low, ref.last) == (
        "AAPL", 225.6, 225.6, 228.1, 225.0, 227.5)
    assert feed.reference("ZZZZ") is None  # Finnhub's all-zero answer
    assert feed.reference("AAPL") == ref
    assert fake.rest_requests == ["AAPL", "ZZZZ"]  # the repeat came from the cache


def test_reference_429_sets_rate_limited_and_streaming_goes_on(live, fake, sink):
    fake.quote_mode = "429"
    assert live.reference("AAPL") is None
    assert live.state == FeedState.RATE_LIMITED
    assert "429" in live.last_error and "rate limit" in live.last_error
    fake.trades(trade("AAPL", 2.0))
    sink.wait_for(1)
    fake.quote_mode = "ok"
    fake.quotes["TSLA"] = {**AAPL_QUOTE, "pc": 250.0}
    assert live.reference("TSLA").prev_close == 250.0
    assert live.state == FeedState.LIVE


@pytest.mark.parametrize(("mode", "expected"), [("500", "HTTP 500"), ("hang", "timed out")])
def test_reference_server_error_or_timeout_returns_none(make_feed, fake, sink, mode,
                                                        expected):
    feed = make_feed(rest_timeout_s=0.5)
    feed.subscribe(["AAPL"])
    feed.start(sink)
    conn = fake.wait_connection(1)
    wait_until(lambda: conn.subscribed == {"AAPL"})
    fake.quote_mode = mode
    fake.hang_s = 3.0
    assert feed.reference("AAPL") is None
    assert expected in feed.last_error
    assert feed.state == FeedState.LIVE
    fake.trades(trade("AAPL", 2.0), conn=conn)
    sink.wait_for(1)


def test_reference_unreachable_never_raises_or_leaks(make_feed, fake):
    from tests.fakes.finnhub_fake import FakeFinnhub

    with FakeFinnhub() as gone:
        url = gone.rest_url
    feed = make_feed(rest_url=url)  # nothing listens there any more
    assert feed.reference("AAPL") is None
    assert "ConnectionError" in feed.last_error
    assert FAKE_KEY not in feed.last_error


def test_reference_errors_are_redacted_even_if_the_library_prints_the_key(monkeypatch):
    client = QuoteClient(FAKE_KEY, "http://127.0.0.1:9/api/v1")

    class Leaky:
        def quote(self, symbol):
            raise requests.ConnectionError(
                f"Max retries exceeded with url: /api/v1//quote?symbol={symbol}"
                f"&token={FAKE_KEY} (Caused by ...)")

    monkeypatch.setattr(client, "_get_client", lambda: Leaky())
    with pytest.raises(RestError) as info:
        client.quote("AAPL")
    assert FAKE_KEY not in str(info.value) and "token=***" in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_concurrent_first_requests_for_a_symbol_make_one_rest_call(monkeypatch):
    """Two sessions adding the same new symbol at once: one call, one answer for both."""
    import threading
    import time

    client = QuoteClient(FAKE_KEY, "http://127.0.0.1:9/api/v1")
    calls: list[str] = []

    class Slow:
        def quote(self, symbol):
            calls.append(symbol)
            time.sleep(0.3)  # the second caller arrives while this one is in flight
            return AAPL_QUOTE

    monkeypatch.setattr(client, "_get_client", lambda: Slow())
    start = threading.Barrier(2)
    answers = []

    def ask():
        start.wait()
        answers.append(client.quote("AAPL"))

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert calls == ["AAPL"]
    assert len(answers) == 2 and answers[0] == answers[1] and answers[0].prev_close == 225.6


def test_client_side_rate_limit(make_feed, fake):
    for sym in ("A", "B", "C"):
        fake.quotes[sym] = AAPL_QUOTE
    feed = make_feed(rest_per_minute=2)
    assert feed.reference("A") is not None
    assert feed.reference("B") is not None
    assert feed.reference("C") is None
    assert "client-side limit" in feed.last_error
    assert fake.rest_requests == ["A", "B"]
    assert feed.state != FeedState.RATE_LIMITED


def test_token_bucket_refills_over_time():
    now = [0.0]
    bucket = TokenBucket(60, burst=2, clock=lambda: now[0])
    assert [bucket.try_acquire() for _ in range(3)] == [True, True, False]
    now[0] += 1.0  # 60/min = one call a second
    assert bucket.try_acquire() and not bucket.try_acquire()


# -- secrecy ----------------------------------------------------------------------
def test_key_never_in_logs_repr_or_errors(make_feed, fake, sink, caplog):
    logging.getLogger("websocket").debug("url was ws://x/?token=%s", FAKE_KEY)  # worst case
    feed = make_feed()
    feed.subscribe(["AAPL"])
    feed.start(sink)
    fake.wait_connection(1)
    fake.drop()
    fake.wait_connection(2)
    fake.quote_mode = "500"
    feed.reference("AAPL")
    assert FAKE_KEY not in caplog.text
    assert "token=***" in caplog.text  # the redaction filter did its job
    assert FAKE_KEY not in repr(feed) and FAKE_KEY not in str(feed.param.values())
    assert FAKE_KEY not in feed.last_error


def test_from_settings_and_registry():
    settings = Settings(feed="finnhub", finnhub_api_key=Secret(FAKE_KEY),
                        finnhub_ws_url="ws://127.0.0.1:1", finnhub_rest_url="http://127.0.0.1:1")
    cls = feed_class("finnhub")
    assert cls is FinnhubFeed
    feed = cls.from_settings(settings)
    assert (feed.ws_url, feed.rest_url, feed.max_symbols) == (
        "ws://127.0.0.1:1", "http://127.0.0.1:1", 50)
    assert FAKE_KEY not in repr(feed)
    symbols = {s.symbol for s in feed.universe()}
    assert {"AAPL", "TSLA", "BINANCE:BTCUSDT", "BINANCE:ETHUSDT"} <= symbols


# -- pure parts -------------------------------------------------------------------
def test_parse_trades():
    ticks, bad = parse_trades([trade("AAPL", 1.5, T0, v=2), {"s": "X"}, None,
                               {"s": "Y", "p": 2, "t": T0, "v": None}])
    assert ticks == [Tick("AAPL", 1.5, 2.0, T0 / 1000), Tick("Y", 2.0, 0.0, T0 / 1000)]
    assert bad == 2
    assert parse_trades({"s": "AAPL"}) == ([], 1)


def test_recent_trades_is_bounded():
    recent = RecentTrades(per_symbol=3)
    ticks = [Tick("A", 1.0, 1.0, float(i)) for i in range(5)]
    assert [recent.is_repeat(t) for t in ticks] == [False] * 5
    assert len(recent) == 3
    assert recent.is_repeat(ticks[4]) and not recent.is_repeat(ticks[0])  # 0 was evicted


def test_full_jitter_bounds():
    assert full_jitter(0, base=1, cap=60, rand=lambda: 1.0) == 1.0
    assert full_jitter(3, base=1, cap=60, rand=lambda: 1.0) == 8.0
    assert full_jitter(10, base=1, cap=60, rand=lambda: 1.0) == 60.0
    assert full_jitter(10_000, base=1, cap=60, rand=lambda: 1.0) == 60.0
    assert full_jitter(5, base=1, cap=60, rand=lambda: 0.0) == 0.0
    assert all(0 <= full_jitter(4) <= 16 for _ in range(100))
    with pytest.raises(ValueError):
        full_jitter(-1)


def test_redact():
    assert redact(f"GET /?token={FAKE_KEY}&x=1", FAKE_KEY) == "GET /?token=***&x=1"
    assert redact(f"key {FAKE_KEY} here", FAKE_KEY) == "key *** here"
    assert redact("token=abc def") == "token=*** def"


def test_backoff_grows_while_failing_and_resets_after_a_stable_connection(
        make_feed, fake, sink, monkeypatch):
    attempts: list[int] = []

    def spy(attempt, base, cap, rand=None):
        attempts.append(attempt)
        return 0.01

    monkeypatch.setattr(backoff, "full_jitter", spy)
    fake.ws_refuse_status = 503
    feed = make_feed(stable_after_s=0.0)
    feed.start(sink)
    wait_until(lambda: len(attempts) >= 4)
    assert attempts[:4] == [0, 1, 2, 3]  # grows while attempts keep failing
    fake.ws_refuse_status = None
    conn = fake.wait_connection(1)
    wait_until(lambda: feed.state == FeedState.LIVE)
    failed = len(attempts)
    fake.drop(conn)
    wait_until(lambda: len(attempts) > failed)
    assert attempts[failed] == 0  # the connection had stayed up: start over


def test_a_rest_401_reads_as_an_authentication_failure(fake):
    from app.feeds.finnhub import FinnhubFeed

    feed = FinnhubFeed(api_key="sk-wrong-REST-9", rest_url=fake.rest_url, ws_url=fake.ws_url)
    assert feed.reference("AAPL") is None
    assert feed.last_error.startswith("authentication failed: check FINNHUB_API_KEY")
    assert "sk-wrong-REST-9" not in feed.last_error

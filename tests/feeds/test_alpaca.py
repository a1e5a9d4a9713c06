"""The Alpaca adapter against a local fake Alpaca: auth flow, error codes, limits, secrecy."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from app.config import SettingError, load_settings
from app.feeds.alpaca import AUTH_FAILED, NO_KEY, AlpacaFeed, parse_time
from app.feeds.registry import feed_class, require_feed_settings
from app.hub.hub import Hub
from app.ticks import FeedState
from tests.fakes import FakeAlpaca, wait_until
from tests.feeds.conftest import FAST

KEY_ID = "PK-TEST-KEYID-987"
SECRET = "alpaca-SECRET-xyz-654"
T0 = "2026-11-27T15:51:44.208123456Z"


@pytest.fixture
def fake():
    with FakeAlpaca(KEY_ID, SECRET) as server:
        yield server


@pytest.fixture(autouse=True)
def keys_never_logged(caplog):
    yield
    assert KEY_ID not in caplog.text and SECRET not in caplog.text


@pytest.fixture
def make_feed(fake):
    feeds: list[AlpacaFeed] = []

    def make(**params) -> AlpacaFeed:
        params = {"key_id": KEY_ID, "secret_key": SECRET, "ws_url": fake.ws_url,
                  "rest_url": fake.rest_url, **FAST, **params}
        feed = AlpacaFeed(**params)
        feeds.append(feed)
        return feed

    yield make
    for feed in feeds:
        feed.stop()
        for text in (repr(feed), feed.last_error):
            assert KEY_ID not in text and SECRET not in text


# ``live`` comes from tests/feeds/conftest.py: with this module's ``fake`` and
# ``make_feed`` it is an Alpaca feed connected to the fake, subscribed to AAPL and TSLA.


def trade(sym="AAPL", p=126.55, s=1, t=T0):
    return {"S": sym, "p": p, "s": s, "t": t}


def test_parse_time_takes_nanoseconds_and_z():
    whole = datetime(2026, 11, 27, 15, 51, 44, tzinfo=UTC).timestamp()
    assert parse_time(T0) == pytest.approx(whole + 0.208123, abs=1e-6)
    assert parse_time("2026-11-27T15:51:44Z") == whole
    with pytest.raises(ValueError):
        parse_time(12)


def test_auth_then_one_subscribe_frame_then_trades(live, fake, sink):
    conn = fake.current
    assert conn.frames[0] == {"action": "auth", "key": KEY_ID, "secret": SECRET}
    assert conn.frames[1]["action"] == "subscribe"
    assert sorted(conn.frames[1]["trades"]) == ["AAPL", "TSLA"]
    assert live.state is FeedState.LIVE
    fake.trades(trade(), trade("TSLA", 200.5, 3))
    ticks = sink.wait_for(2)
    assert [(t.symbol, t.price, t.size) for t in ticks] == [("AAPL", 126.55, 1),
                                                            ("TSLA", 200.5, 3)]


def test_unsubscribe_sends_one_frame(live, fake):
    live.unsubscribe(["TSLA"])
    conn = fake.current
    wait_until(lambda: conn.subscribed == {"AAPL"}, what="unsubscribe")
    assert {"action": "unsubscribe", "trades": ["TSLA"]} in conn.frames


def test_no_subscription_before_authenticated(make_feed, fake, sink):
    feed = make_feed()
    feed.subscribe(["AAPL"])
    fake.auth_timeout_s = None
    feed.start(sink)
    conn = fake.wait_connection(1)
    wait_until(lambda: conn.subscribed == {"AAPL"})
    actions = [f["action"] for f in conn.frames]
    assert actions.index("auth") < actions.index("subscribe")


def test_wrong_key_says_authentication_failed_and_does_not_hammer(make_feed, fake, sink):
    feed = make_feed(secret_key="wrong-secret-000", auth_retry_s=60.0)
    feed.start(sink)
    wait_until(lambda: feed.state is FeedState.AUTH_FAILED, what="auth_failed")
    assert feed.last_error.startswith("authentication failed")
    assert feed.last_error.startswith(AUTH_FAILED)
    assert fake.ws_attempts == 1 and feed.retry_at is not None
    assert "wrong-secret-000" not in feed.last_error


def test_auth_timeout_404_reconnects_and_recovers(make_feed, fake, sink, monkeypatch):
    feed = make_feed()
    feed.subscribe(["AAPL"])
    answer = feed._on_control

    def no_login(conn, kind, item):  # hears "connected" but never logs in
        if item.get("msg") != "connected":
            answer(conn, kind, item)

    monkeypatch.setattr(feed, "_on_control", no_login)
    fake.auth_timeout_s = 0.1
    feed.start(sink)
    wait_until(lambda: "authentication timed out (404)" in feed.last_error, what="404")
    assert feed.state in (FeedState.DOWN, FeedState.CONNECTING)
    monkeypatch.undo()
    wait_until(lambda: feed.state is FeedState.LIVE, what="live again")
    assert fake.connections[-1].subscribed == {"AAPL"}


@pytest.mark.parametrize(("code", "state", "text"), [
    (402, FeedState.AUTH_FAILED, "authentication failed"),
    (406, FeedState.DOWN, "connection limit exceeded"),
    (409, FeedState.AUTH_FAILED, "insufficient subscription"),
])
def test_refusing_codes_show_their_text_and_wait(live, fake, code, state, text):
    fake.error(code, "x")
    wait_until(lambda: live.state is state and text in live.last_error, what=str(code))
    assert f"({code})" in live.last_error
    assert len(fake.connections) == 1  # waits auth_retry_s, no quick retry


@pytest.mark.parametrize(("code", "text"), [(401, "not authenticated"), (407, "slow client")])
def test_dropping_codes_reconnect_and_resubscribe(live, fake, code, text):
    fake.error(code, "x")
    wait_until(lambda: text in live.last_error or len(fake.connections) >= 2, what=str(code))
    conn = fake.wait_connection(2)
    wait_until(lambda: conn.subscribed == {"AAPL", "TSLA"}, what="resubscribed")
    assert live.reconnects >= 1


@pytest.mark.parametrize(("code", "text"), [(403, "already authenticated"),
                                            (405, "symbol limit exceeded")])
def test_in_band_codes_keep_the_socket(live, fake, sink, code, text):
    fake.error(code, "x")
    wait_until(lambda: text in live.last_error, what=str(code))
    assert live.state is FeedState.LIVE
    fake.trades(trade())
    sink.wait_for(1)
    assert len(fake.connections) == 1


def test_real_405_from_the_server_when_over_its_limit(make_feed, fake, sink):
    fake.symbol_limit = 1
    feed = make_feed()
    feed.subscribe(["AAPL", "TSLA"])
    feed.start(sink)
    wait_until(lambda: "symbol limit exceeded (405)" in feed.last_error)


def test_cap_refuses_before_the_server_and_promotes_on_room(live, fake):
    live.max_symbols = 2
    live.subscribe(["MSFT"])
    assert "MSFT" in live.unavailable()
    live.unsubscribe(["TSLA"])
    conn = fake.current
    wait_until(lambda: conn.subscribed == {"AAPL", "MSFT"}, what="promotion")


def test_drop_reconnects_with_backoff_and_resubscribes(live, fake):
    fake.drop()
    conn = fake.wait_connection(2)
    wait_until(lambda: conn.subscribed == {"AAPL", "TSLA"})
    assert conn.duplicate_subscribes == []


def test_stall_is_detected_and_the_connection_replaced(make_feed, fake, sink):
    feed = make_feed(stall_timeout_s=0.2)
    feed.subscribe(["AAPL"])
    feed.start(sink)
    fake.wait_connection(2, timeout=15)
    assert feed.reconnects >= 1


def test_malformed_messages_are_counted_not_fatal(live, fake, sink):
    fake.send("not json")
    fake.send(json.dumps({"T": "t"}))  # an object, not an array
    fake.send(json.dumps([{"T": "t", "S": "AAPL", "p": "x", "t": T0}, 7, {"T": "zz"}]))
    fake.trades(trade())
    sink.wait_for(1)
    assert live.malformed_count == 4 and live.unknown_count == 1
    assert live.state is FeedState.LIVE


def test_burst_and_duplicates(live, fake, sink):
    burst = [trade(p=100 + i / 100, t=f"2026-11-27T15:51:{i % 60:02d}.{i:06d}Z")
             for i in range(2000)]
    fake.trades(*burst, *burst[-5:])
    ticks = sink.wait_for(2000)
    assert len(ticks) == 2000 and live.duplicate_count == 5
    assert [t.price for t in ticks] == [b["p"] for b in burst]


def test_reference_from_the_previous_daily_bar(make_feed, fake):
    fake.snapshot("AAPL", prev_close=120.0, last=126.0)
    feed = make_feed()
    ref = feed.reference("AAPL")
    assert (ref.prev_close, ref.last) == (120.0, 126.0)
    assert feed.reference("NOPE") is None
    fake.quote_mode = "429"
    assert feed.reference("MSFT") is None
    assert feed.last_error == "Alpaca REST rate limit reached (HTTP 429)"


def test_reference_calls_are_limited_client_side(make_feed, fake):
    feed = make_feed(rest_per_minute=2, reference_ttl_s=0.0)
    for sym in ("A", "B", "C", "D"):
        feed.reference(sym)
    assert len(fake.rest_requests) == 2
    assert "client-side limit" in feed.last_error


def test_wrong_key_on_rest_says_authentication_failed(make_feed, fake):
    feed = make_feed(secret_key="nope-nope-1")
    assert feed.reference("AAPL") is None
    assert feed.last_error.startswith("authentication failed")


def test_settings_keys_from_env_files_and_registry(tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET + "\n")
    s = load_settings({"PHOTON_FEED": "alpaca", "ALPACA_API_KEY_ID": KEY_ID,
                       "ALPACA_API_SECRET_KEY_FILE": str(secret_file),
                       "ALPACA_WS_URL": "ws://127.0.0.1:9/v2/iex"}, env_file=tmp_path / "no")
    assert s.alpaca_secret_key.reveal() == SECRET
    assert SECRET not in repr(s) and KEY_ID not in repr(s)
    feed = feed_class(s.feed).from_settings(s)
    assert isinstance(feed, AlpacaFeed) and feed.ws_url == "ws://127.0.0.1:9/v2/iex"


def test_through_the_hub_health_carries_no_key(make_feed, fake):
    fake.snapshot("AAPL", prev_close=120.0, last=126.0)
    hub = Hub(make_feed(), push_interval_ms=50, history_len=20).start()
    try:
        sub = hub.subscribe(["AAPL"])
        conn = fake.wait_connection(1)
        wait_until(lambda: conn.subscribed == {"AAPL"})
        fake.trades(trade(p=126.55), conn=conn)
        wait_until(lambda: (q := hub.quote("AAPL")) is not None and q.last == 126.55)
        assert hub.quote("AAPL").prev_close == 120.0
        text = json.dumps(hub.health(), default=str)
        assert "alpaca" in text and KEY_ID not in text and SECRET not in text
        sub.close()
    finally:
        hub.stop()


def test_missing_keys_stop_the_command_and_leave_a_started_feed_waiting(tmp_path, make_feed,
                                                                       fake, sink):
    s = load_settings({"PHOTON_FEED": "alpaca", "ALPACA_API_KEY_ID": KEY_ID},
                      env_file=tmp_path / "no")
    with pytest.raises(SettingError, match="ALPACA_API_SECRET_KEY"):
        require_feed_settings(s)
    feed = make_feed(secret_key="")
    feed.start(sink)
    wait_until(lambda: feed.state is FeedState.AUTH_FAILED, what="auth_failed")
    assert feed.last_error == NO_KEY and fake.ws_attempts == 0


def test_a_snapshot_gives_the_days_volume_so_far():
    from app.feeds.alpaca import parse_snapshot

    ref = parse_snapshot("AAPL", {"prevDailyBar": {"c": 120.0},
                                  "dailyBar": {"o": 121.0, "h": 127.0, "l": 119.5,
                                               "v": 1_234_567},
                                  "latestTrade": {"p": 126.0}})
    assert ref.volume == 1_234_567.0 and ref.prev_close == 120.0 and ref.high == 127.0
    assert parse_snapshot("AAPL", {"prevDailyBar": {"c": 120.0}}).volume is None

"""Nothing in Redis can stop a server's prices silently (issue 18), with a real redis-server.

The issue's case first: ``publish photon:t:AAPL '[1,2]'`` killed the server's Redis
reader while /health said ok. Now every message and hash has a schema
(:mod:`app.feeds.redis_formats`); what breaks it is dropped, counted in /metrics and logged, and
the prices keep flowing.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.request

import pytest

from app.feeds import redis_formats as bus
from app.feeds.redis_feed import RedisFeed
from app.hub.hub import Hub
from app.lanes.routes import health_report
from app.relay.publisher import Relay
from app.runtime import metrics
from app.ticks import FeedState
from tests.conftest import ManualFeed
from tests.redisd import redis_server, relay_process
from tests.support import RawSession, photon_server, wait_until

pytestmark = pytest.mark.server


@pytest.fixture
def redisd(tmp_path):
    with redis_server(tmp_path) as server:
        yield server


@pytest.fixture
def started():
    """Things with stop() (hubs, relays' threads), stopped after the test."""
    stops: list = []
    yield stops.append
    for stop in reversed(stops):
        stop()


def start_relay(url: str, started) -> Relay:
    relay = Relay(ManualFeed, url)
    thread = threading.Thread(target=relay.run, daemon=True)
    thread.start()
    started(lambda: (relay.stop(), thread.join(10)))
    return relay


def start_hub(url: str, started, proc: str = "server") -> Hub:
    hub = Hub(RedisFeed(url, proc_id=proc, relay_down_after_s=1.5), push_interval_ms=50)
    hub.start()
    started(hub.stop)
    return hub


def malformed_total(source: str) -> float:
    """``photon_malformed_messages_total{source=...}`` as /metrics shows it."""
    page = metrics.render_latest()[0].decode()
    found = re.search(rf'^photon_malformed_messages_total\{{source="{source}"\}} (\S+)$', page,
                      re.MULTILINE)
    return float(found.group(1)) if found else 0.0


GARBAGE_TICKS = [
    b"[1,2]",  # the issue's case: a list where an object belongs
    b"\xff\xfe\x00garbage",  # not UTF-8
    b"not json",
    b'{"at": 1700000000, "ticks": [[0, 1, 1700000000]]}',  # zero price
    b'{"at": 1700000000, "ticks": [[-5, 1, 1700000000]]}',  # negative price
    b'{"at": 1700000000, "ticks": [[NaN, 1, 1700000000]]}',  # not finite
    b'{"at": 1700000000, "ticks": [[100, -1, 1700000000]]}',  # negative size
    b'{"at": 1700000000, "ticks": [[100, 1, 1700000000000]]}',  # milliseconds
    b'{"at": 1700000000, "ticks": [["100", 1, 1700000000]]}',  # text
    b'{"at": 1700000000, "ticks": [[100, 1]]}',  # short entry
    b'{"at": "now", "ticks": []}',
    b'{"at": 1700000000, "ticks": {}}',
    b'{"at": 1700000000, "ticks": [[100, 1, 1700000000]], "pad": "'
    + b"x" * bus.MAX_MESSAGE_BYTES + b'"}',  # too big
    b"[" * 100_000,  # deep nesting
]


def test_garbage_on_a_tick_channel_is_dropped_counted_and_prices_keep_flowing(
        redisd, started):
    relay = start_relay(redisd.url, started)
    hub = start_hub(redisd.url, started)
    hub.subscribe(["AAPL", "TSLA"])
    wait_until(lambda: relay.feed is not None and relay.feed.symbols == {"AAPL", "TSLA"},
               what="both symbols upstream")
    wait_until(lambda: hub.health().state is FeedState.LIVE, what="live")
    relay.feed.push("AAPL", 101.5, ts=1_700_000_000.0)
    wait_until(lambda: (q := hub.quote("AAPL")) and q.last == 101.5, what="the first trade")
    before = malformed_total("ticks")
    client = redisd.client()
    for garbage in GARBAGE_TICKS:
        client.publish(bus.tick_channel("AAPL"), garbage)
    wait_until(lambda: hub.feed.malformed.get("ticks") == len(GARBAGE_TICKS),
               what="every bad message dropped and counted")
    assert malformed_total("ticks") - before == len(GARBAGE_TICKS)
    # The reader lives on: the next trades of both symbols arrive.
    relay.feed.push("AAPL", 102.25, ts=1_700_000_001.0)
    relay.feed.push("TSLA", 250.0, ts=1_700_000_001.0)
    wait_until(lambda: (q := hub.quote("AAPL")) and q.last == 102.25, what="AAPL again")
    wait_until(lambda: (q := hub.quote("TSLA")) and q.last == 250.0, what="TSLA again")
    quote = hub.quote("AAPL")
    assert quote.low == 101.5 and quote.high == 102.25  # no garbage price was ever folded
    assert hub.feed.running and hub.health().state is FeedState.LIVE, hub.health().last_error
    assert health_report(hub)[0] == 200


class Beat:
    """Writes the ``feed`` hash as a relay would, every 0.1 s, with fields the test sets."""

    def __init__(self, client):
        self.client = client
        self.fields: dict[str, bytes | str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def good(self) -> None:
        self.fields = {"feed": "mock", "label": "Mock", "state": "live"}

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            pipe = self.client.pipeline(transaction=True)  # never an empty hash in between
            pipe.delete(bus.FEED_KEY)
            pipe.hset(bus.FEED_KEY, mapping={"beat": repr(time.time()), **self.fields})
            pipe.execute()

    def __enter__(self) -> Beat:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(5)


@pytest.mark.parametrize(("field", "value"), [
    ("state", "bogus"),  # unknown state value
    ("state", b"\xff\xfelive"),  # not UTF-8
    ("beat", "soon"),  # non-numeric beat
    ("beat", repr(time.time() + 3600)),  # a beat from the future keeps a dead relay alive
    ("beat", "1e308"),
    ("notes", "{not json"),
    ("notes", json.dumps({"<script>": "x"})),
    ("retry_at", "NaN"),
    ("last_error", "x" * 10_000),
])
def test_an_unreadable_feed_hash_says_relay_down_never_live_and_recovers(
        redisd, started, field, value):
    hub = start_hub(redisd.url, started)
    hub.subscribe(["AAPL"])
    with Beat(redisd.client()) as beat:
        beat.good()
        wait_until(lambda: hub.health().state is FeedState.LIVE, what="live")
        beat.fields = {**beat.fields, field: value}
        health = wait_until(lambda: (h := hub.health()).state is FeedState.RELAY_DOWN and h,
                            what="relay down")
        assert "unreadable" in health.last_error and hub.feed.malformed["feed"] >= 1
        status, body = health_report(hub)
        assert status == 503 and body["status"] == "down"
        beat.good()
        wait_until(lambda: hub.health().state is FeedState.LIVE, what="live again")
        assert hub.feed.running


@pytest.mark.parametrize("value", [
    b"[1,2]", b"\xff\xfe", b'{"open": "yes", "symbols": []}',
    json.dumps({"open": False, "symbols": [["<img src=x onerror=alert(1)>", "x"]]}),
    json.dumps({"open": False, "symbols": [["AAPL"]]}),
])
def test_a_malformed_universe_is_dropped_and_counted_once(redisd, started, value):
    client = redisd.client()
    client.set(bus.UNIVERSE_KEY, value)
    feed = RedisFeed(redisd.url, proc_id="u")
    started(feed.stop)
    feed.start(lambda ticks: None)
    wait_until(lambda: feed.malformed.get("universe") == 1, what="counted")
    assert feed.universe() == [] and feed.malformed["universe"] == 1  # read again, not recounted
    client.set(bus.UNIVERSE_KEY, bus.encode_universe(False, [bus.SymbolInfo("AAPL", "Apple")]))
    wait_until(lambda: [i.symbol for i in feed.universe()] == ["AAPL"], what="the good one")
    assert feed.running and not feed.open_universe


@pytest.mark.parametrize("fields", [
    {"prev_close": "-1"}, {"prev_close": "0"}, {"prev_close": "abc"},
    {"prev_close": "100", "last": "inf"}, {"prev_close": "100", "ts": "1e15"},
    {"prev_close": b"\xff"},
])
def test_a_malformed_quote_hash_gives_no_reference(redisd, started, fields):
    redisd.client().hset(bus.quote_key("AAPL"), mapping=fields)
    feed = RedisFeed(redisd.url, proc_id="q", reference_wait_s=0.0)
    started(feed.stop)
    assert feed.reference("AAPL") is None and feed.malformed == {"quote": 1}


def test_the_relay_subscribes_only_well_formed_declarations(redisd, started):
    relay = start_relay(redisd.url, started)
    wait_until(lambda: relay.role == "leader", what="leader")
    client = redisd.client()
    before = malformed_total("want"), malformed_total("procs")
    now = time.time() + 60  # stays within the declaration window for the whole test
    client.zadd(bus.PROCS_KEY, {"good": now, "big": now, b"\xff\xfe": now, "bad id!": now})
    client.sadd(bus.want_key("good"), "AAPL", "<script>", "aapl", b"\xff", "X" * 200)
    client.sadd(bus.want_key("big"), *(f"S{i}" for i in range(bus.MAX_DECLARED + 1)))
    client.publish(bus.INTEREST_CHANNEL, "good")
    wait_until(lambda: relay.feed is not None and relay.feed.symbols == {"AAPL"},
               what="only AAPL upstream")
    wait_until(lambda: malformed_total("want") - before[0] == 5 and
               malformed_total("procs") - before[1] == 2, what="counted")
    assert relay.wanted() == {"AAPL"} and relay.role == "leader"


def test_the_issues_case_with_processes_the_server_keeps_its_prices(tmp_path):
    """As the operator tried it: a relay, a server, a viewer on AAPL and TSLA, then
    ``publish photon:t:AAPL '[1,2]'``."""
    with redis_server(tmp_path) as redisd, relay_process(tmp_path, redisd.url), \
            photon_server(tmp_path, env={"PHOTON_REDIS_URL": redisd.url}) as server:
        session = RawSession(server.url("/app?symbols=AAPL,TSLA"))
        try:
            wait_until(lambda: server.health()["state"] == "live", timeout=30, what="live")
            redisd.client().publish("photon:t:AAPL", "[1,2]")

            def dropped() -> bool:
                with urllib.request.urlopen(server.url("/metrics"), timeout=5) as r:
                    return 'photon_malformed_messages_total{source="ticks"} 1.0' in \
                        r.read().decode()

            wait_until(dropped, what="the message counted in /metrics")
            assert "malformed_redis source=ticks" in server.output()
            before = server.health()
            after = wait_until(lambda: (h := server.health())["ticks_received"]
                               > before["ticks_received"] and h["cycle"] > before["cycle"]
                               and h, what="ticks and cycles go on")
            assert (after["status"], after["state"]) == ("ok", "live")
        finally:
            session.close()


def test_a_lock_key_no_relay_set_does_not_keep_every_relay_waiting(redisd, started):
    redisd.client().set(bus.LOCK_KEY, "garbage")  # no expiry: never a relay's
    before = malformed_total("lock")
    relay = start_relay(redisd.url, started)
    wait_until(lambda: relay.role == "leader", what="the relay leads anyway")
    assert malformed_total("lock") - before == 1


@pytest.mark.parametrize(("key", "source"), [
    (bus.FEED_KEY, "feed"), (bus.PROCS_KEY, "procs"), (bus.quote_key("AAPL"), "quote"),
    (bus.want_key("server"), None),  # the server rewrites its own set
])
def test_a_key_of_the_wrong_type_is_dropped_and_prices_resume(redisd, started, key, source):
    """A list where Photon keeps a hash, a set or a sorted set: the relay deletes it (and
    counts it) or the server rewrites it; prices come back by themselves."""
    relay = start_relay(redisd.url, started)
    hub = start_hub(redisd.url, started)
    hub.subscribe(["AAPL"])
    wait_until(lambda: hub.health().state is FeedState.LIVE and relay.feed is not None
               and relay.feed.symbols == {"AAPL"}, what="live")
    before = malformed_total(source) if source else 0.0
    client = redisd.client()
    pipe = client.pipeline(transaction=True)
    pipe.delete(key)
    pipe.rpush(key, "garbage")
    pipe.execute()
    ticks = hub.ticks_received

    def ticks_again() -> bool:
        relay.feed.push("AAPL", 150.0, ts=1_700_000_000.0)
        return (hub.ticks_received > ticks and hub.health().state is FeedState.LIVE
                and client.type(key) != b"list")

    wait_until(ticks_again, timeout=20, what="the key replaced, ticks and live again")
    if source:
        assert malformed_total(source) > before
    assert ("unsubscribe", ["AAPL"]) not in relay.feed.sent  # the upstream kept it throughout


def test_a_server_watching_more_than_the_cap_declares_the_first_ones(redisd, started, caplog):
    relay = start_relay(redisd.url, started)
    hub = start_hub(redisd.url, started)
    many = [f"S{i:04d}" for i in range(bus.MAX_DECLARED + 5)]
    hub.subscribe(many)
    wait_until(lambda: relay.feed is not None and relay.feed.symbols
               == set(sorted(many)[:bus.MAX_DECLARED]), what="the first 1,000 upstream")
    assert "declared_over_cap" in caplog.text

"""The relay and the servers that read it, through a real ``redis-server``.

In-process relays and hubs where the test needs to look inside; separate
processes where it must kill one hard.
"""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from app.feeds.mock import MockFeed
from app.feeds.redis_feed import RedisFeed
from app.hub.hub import Hub
from app.relay.publisher import Relay
from app.ticks import FeedState
from tests.conftest import ManualFeed
from tests.redisd import redis_server, relay_process
from tests.support import ROOT, free_port, wait_until

pytestmark = pytest.mark.server


@pytest.fixture
def redisd(tmp_path):
    with redis_server(tmp_path) as server:
        yield server


class Relays:
    """In-process relays on threads, stopped at the end of the test."""

    def __init__(self):
        self.running: list[tuple[Relay, threading.Thread]] = []

    def start(self, url: str, make_feed, **kw) -> Relay:
        relay = Relay(make_feed, url, **kw)
        thread = threading.Thread(target=relay.run, daemon=True)
        thread.start()
        self.running.append((relay, thread))
        return relay

    def stop(self, relay: Relay) -> None:
        relay.stop()
        for r, t in self.running:
            if r is relay:
                t.join(10)


@pytest.fixture
def relays():
    r = Relays()
    yield r
    for relay, thread in r.running:
        relay.stop()
        thread.join(10)


class Hubs:
    """Server-side hubs reading the relay, one per simulated server process."""

    def __init__(self):
        self.hubs: list[Hub] = []

    def start(self, url: str, proc: str) -> Hub:
        hub = Hub(RedisFeed(url, proc_id=proc, relay_down_after_s=1.5),
                  push_interval_ms=100).start()
        self.hubs.append(hub)
        return hub


@pytest.fixture
def hubs():
    h = Hubs()
    yield h
    for hub in h.hubs:
        hub.stop()


def upstream(relay: Relay) -> frozenset[str]:
    return relay.feed.symbols if relay.feed is not None else frozenset()


def test_a_server_shows_the_relays_market_and_the_upstream_follows_its_sessions(
        redisd, relays, hubs):
    relay = relays.start(redisd.url, lambda: MockFeed(seed=1))
    hub = hubs.start(redisd.url, "p1")
    sub = hub.subscribe(["AAPL"])
    quote = wait_until(lambda: (q := hub.quote("AAPL")) and q.prev_close and q.ts and q,
                       what="AAPL trades through the relay")
    assert quote.prev_close == pytest.approx(227.52 / 1.0084, abs=0.01)  # the mock's close
    health = wait_until(lambda: (h := hub.health()).state is FeedState.LIVE and h,
                        what="live via the relay")
    assert (health.feed, health.upstream, health.label) == ("relay", "mock", "Mock via relay")
    assert upstream(relay) == {"AAPL"}
    sub.update(["AAPL", "TSLA"])
    wait_until(lambda: upstream(relay) == {"AAPL", "TSLA"}, what="TSLA asked upstream")
    sub.close()
    wait_until(lambda: upstream(relay) == frozenset(), timeout=10,
               what="the upstream drops what nobody watches")


def test_the_upstream_carries_the_union_and_a_crashed_servers_symbols_expire(
        redisd, relays, hubs):
    relay = relays.start(redisd.url, lambda: MockFeed(seed=2))
    a, b = hubs.start(redisd.url, "proc-a"), hubs.start(redisd.url, "proc-b")
    a.subscribe(["AAPL", "MSFT"])
    b.subscribe(["MSFT", "NVDA"])
    wait_until(lambda: upstream(relay) == {"AAPL", "MSFT", "NVDA"}, what="the union upstream")
    # proc-b crashes: its loop ends without saying goodbye; its declaration must expire.
    b.feed._stop.set()
    wait_until(lambda: upstream(relay) == {"AAPL", "MSFT"}, timeout=25,
               what="proc-b's symbols expired")
    assert a.health().state is FeedState.LIVE  # the others carry on


def test_a_late_joiner_shows_the_last_price_and_previous_close_at_once(redisd, relays, hubs):
    relay = relays.start(redisd.url, lambda: ManualFeed(prev_close=100.0))
    first = hubs.start(redisd.url, "early")
    first.subscribe(["AAPL"])
    wait_until(lambda: upstream(relay) == {"AAPL"}, what="AAPL upstream")
    relay.feed.push("AAPL", 101.5, ts=1_700_000_000.0, size=3)
    wait_until(lambda: (q := first.quote("AAPL")) and q.last == 101.5, what="the trade")
    late = hubs.start(redisd.url, "late")
    late.subscribe(["AAPL"])  # no trade comes after this
    q = wait_until(lambda: (q := late.quote("AAPL")) and q.last is not None and q,
                   what="a price for the late joiner")
    assert (q.last, q.prev_close) == (101.5, 100.0)


def test_two_relays_open_one_upstream_and_the_standby_takes_over(redisd, relays):
    live: list[ManualFeed] = []
    opened = []

    def make_feed():
        feed = ManualFeed()
        opened.append(feed)
        live.append(feed)
        original_stop = feed.stop
        feed.stop = lambda *a, **k: (live.remove(feed), original_stop(*a, **k))
        return feed

    one = relays.start(redisd.url, make_feed, lock_ttl_s=3.0)
    two = relays.start(redisd.url, make_feed, lock_ttl_s=3.0)
    wait_until(lambda: {one.role, two.role} == {"leader", "standby"}, what="one leader")
    assert len(opened) == 1 and len(live) == 1
    leader, standby = (one, two) if one.role == "leader" else (two, one)
    relays.stop(leader)
    wait_until(lambda: standby.role == "leader", timeout=10, what="the standby leads")
    assert len(opened) == 2 and len(live) == 1  # never two upstreams at once


def test_the_relay_dies_pages_say_relay_down_and_a_new_relay_resumes(redisd, hubs, tmp_path):
    hub = hubs.start(redisd.url, "server")
    hub.subscribe(["AAPL"])
    with relay_process(tmp_path, redisd.url, name="relay-1") as first:
        wait_until(lambda: hub.health().state is FeedState.LIVE, what="live")
        first.kill()  # no clean step-down: the heartbeat just stops
        health = wait_until(lambda: (h := hub.health()).state is FeedState.RELAY_DOWN and h,
                            what="relay down")
        assert "relay down" in health.last_error
    with relay_process(tmp_path, redisd.url, name="relay-2"):
        # The dead relay's lock expires; the new one takes the upstream and prices flow.
        wait_until(lambda: hub.health().state is FeedState.LIVE, timeout=20, what="resumed")
        ticks = hub.ticks_received
        wait_until(lambda: hub.ticks_received > ticks, what="ticks again")


def test_redis_restarts_and_everything_reconnects(redisd, relays, hubs):
    relay = relays.start(redisd.url, lambda: MockFeed(seed=3))
    hub = hubs.start(redisd.url, "server")
    hub.subscribe(["NVDA"])
    wait_until(lambda: hub.health().state is FeedState.LIVE, what="live")
    feed_before = relay.feed
    redisd.stop()
    health = wait_until(lambda: (h := hub.health()).state is FeedState.DOWN and h,
                        what="the server sees Redis gone")
    assert "Redis unreachable" in health.last_error
    redisd.start()  # empty: no declarations, no lock, no quotes, no universe
    wait_until(lambda: hub.health().state is FeedState.LIVE, timeout=30, what="live again")
    wait_until(lambda: upstream(relay) == {"NVDA"}, timeout=15, what="re-declared upstream")
    ticks = hub.ticks_received
    wait_until(lambda: hub.ticks_received > ticks, what="ticks after the restart")
    assert relay.role == "leader" and relay.feed is feed_before  # kept its upstream
    late = RedisFeed(redisd.url, proc_id="late")  # a server started after the restart
    wait_until(lambda: len(late.universe()) > 30, timeout=15, what="the picker's universe")


@pytest.mark.parametrize(("argv", "prog"), [
    (["relay"], "photon relay: --redis-url: "), ([], "photon: --redis-url: "),
])
def test_redis_unreachable_at_start_is_one_line(tmp_path, argv, prog):
    url = f"redis://127.0.0.1:{free_port()}/0"
    done = subprocess.run([sys.executable, "-m", "app", *argv, "--redis-url", url],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert lines[0].startswith(f"{prog}PHOTON_REDIS_URL={url}: cannot reach Redis")

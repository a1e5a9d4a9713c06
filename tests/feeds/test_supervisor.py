"""Every feed thread is supervised: a crash is logged, shown (page, /health) and retried."""

from __future__ import annotations

import logging
import threading

import pytest

from app.feeds.base import Feed
from app.feeds.mock import MockFeed
from app.feeds.supervisor import restart_delay
from app.hub.hub import Hub
from app.lanes.routes import health_report
from app.runtime import metrics
from app.ticks import FeedState, Reference, SymbolInfo, Tick
from tests.fakes import wait_until


class CrashingFeed(Feed):
    """Its loop raises ``crashes`` times, then runs like a healthy feed."""

    feed_type = "crashing"
    label = "Crashing"
    reference_is_fast = True

    def __init__(self, crashes: int = 1, error: Exception | None = None, **params):
        super().__init__(**params)
        self.crashes = crashes
        self.error = error or AttributeError("'list' object has no attribute 'get'")
        self.runs = 0
        self.go = threading.Event()  # the test lets the crash happen
        self.go.set()

    def _run(self) -> None:
        self.runs += 1
        self.state = FeedState.LIVE
        if self.runs <= self.crashes:
            self.go.wait()
            raise self.error
        while not self._stop.wait(0.02):
            self._emit([Tick(s, 100.0 + self.runs, 1.0, 1.7e9) for s in self.symbols])

    def universe(self) -> list[SymbolInfo]:
        return [SymbolInfo("AAPL", "Apple")]

    def reference(self, symbol: str) -> Reference | None:
        return Reference(symbol, prev_close=100.0)


def restarts_total() -> float:
    return metrics.METRICS.registry.get_sample_value("photon_feed_restarts_total") or 0.0


@pytest.fixture
def stopped():
    feeds: list[Feed] = []
    yield feeds.append
    for feed in feeds:
        feed.stop()


def test_restart_delay_doubles_to_its_cap():
    assert [restart_delay(n, 1.0, 10.0) for n in range(6)] == [1, 2, 4, 8, 10, 10]
    with pytest.raises(ValueError):
        restart_delay(-1, 1.0, 10.0)


def test_a_crash_is_logged_with_its_cause_shown_as_down_and_the_feed_restarts(
        caplog, stopped):
    feed = CrashingFeed(crashes=1, restart_base_s=0.5)
    feed.go.clear()
    stopped(feed)
    feed.subscribe(["AAPL"])
    got: list[Tick] = []
    feed.start(got.extend)
    wait_until(lambda: feed.state is FeedState.LIVE, what="live before the crash")
    restarts = restarts_total()
    feed.go.set()
    wait_until(lambda: feed.state is FeedState.DOWN, what="down after the crash")
    assert restarts_total() == restarts + 1
    assert feed.last_error == "feed error: AttributeError: 'list' object has no attribute 'get'"
    assert feed.retry_at is not None and feed.restarts == 1
    record = next(r for r in caplog.records if "feed_error" in r.getMessage())
    assert record.levelno == logging.ERROR and record.exc_info is not None
    assert "restart_in=0.5s" in record.getMessage()
    wait_until(lambda: feed.state is FeedState.LIVE and got, what="live again, ticks flowing")
    assert feed.last_error == "" and feed.retry_at is None and feed.runs == 2


def test_a_loop_that_ends_by_itself_is_restarted_too(stopped):
    class Quitter(CrashingFeed):
        def _run(self) -> None:
            self.runs += 1
            self.state = FeedState.LIVE
            if self.runs == 1:
                return
            self._stop.wait()

    feed = Quitter(restart_base_s=0.05)
    stopped(feed)
    feed.start(lambda ticks: None)
    wait_until(lambda: feed.runs == 2 and feed.state is FeedState.LIVE, what="restarted")
    assert feed.restarts == 1


def test_a_feed_that_says_it_is_done_is_not_restarted(stopped):
    class Finite(CrashingFeed):
        def _run(self) -> None:
            self.runs += 1
            self.state = FeedState.STOPPED

    feed = Finite(restart_base_s=0.01)
    stopped(feed)
    feed.start(lambda ticks: None)
    wait_until(lambda: not feed.running, what="the thread ended")
    assert (feed.runs, feed.restarts, feed.state) == (1, 0, FeedState.STOPPED)


def test_stop_during_the_backoff_is_prompt_and_says_stopped(stopped):
    feed = CrashingFeed(crashes=99, restart_base_s=60.0)
    feed.start(lambda ticks: None)
    wait_until(lambda: feed.state is FeedState.DOWN, what="down")
    feed.stop(timeout=5)
    assert not feed.running and feed.state is FeedState.STOPPED


def test_the_backoff_grows_while_the_feed_keeps_crashing(stopped):
    feed = CrashingFeed(crashes=99, restart_base_s=0.02, restart_cap_s=0.08)
    stopped(feed)
    feed.start(lambda ticks: None)
    wait_until(lambda: feed.restarts >= 4, what="four restarts")
    assert feed.state is FeedState.DOWN


def test_a_crashing_sink_is_a_feed_error_too(stopped):
    """The hub's fold raising on the feed thread must not end that thread silently."""
    feed = MockFeed(seed=1, restart_base_s=0.05)
    stopped(feed)
    feed.subscribe(["AAPL"])
    calls = []

    def sink(ticks):
        calls.append(len(ticks))
        if len(calls) == 1:
            raise RuntimeError("sink broke")

    feed.start(sink)
    wait_until(lambda: feed.restarts == 1, what="the restart")
    wait_until(lambda: len(calls) > 2 and feed.state is FeedState.LIVE, what="ticks again")


def test_health_answers_503_with_the_error_and_the_restart_while_it_waits():
    feed = CrashingFeed(crashes=1, restart_base_s=2.0)
    feed.go.clear()
    hub = Hub(feed, push_interval_ms=50, stale_after_s=0.2).start()
    try:
        hub.subscribe(["AAPL"])
        wait_until(lambda: hub.health().state is FeedState.LIVE, what="live")
        feed.go.set()
        status, body = wait_until(lambda: (r := health_report(hub))[0] == 503 and r,
                                  what="503")
        assert body["status"] == "down" and body["state"] == "down"
        assert body["last_error"].startswith("feed error: AttributeError")
        assert 0 < body["retry_in_s"] <= 2.0
        assert body["detail"].endswith("; retrying in 2 s")
        # Never "market closed" or "stale" while down, however long it has been quiet.
        assert hub.health().state is FeedState.DOWN
        wait_until(lambda: health_report(hub)[0] == 200, timeout=10, what="healthy again")
    finally:
        hub.stop()

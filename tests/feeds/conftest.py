"""Fixtures for adapter tests: a fake Finnhub, feeds pointed at it, a tick sink."""

from __future__ import annotations

import logging
import threading

import pytest

from app.feeds.finnhub import FinnhubFeed
from app.ticks import Tick
from tests.fakes import FakeFinnhub, wait_until

FAKE_KEY = "sk-test-SECRET-123"

#: Small timings so reconnect tests run in well under a second each.
FAST = {
    "backoff_base_s": 0.05,
    "backoff_cap_s": 0.2,
    "auth_retry_s": 0.5,
    "connect_timeout_s": 5.0,
    "rest_timeout_s": 2.0,
}


class Sink:
    """Collects ticks from the feed thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ticks: list[Tick] = []
        self.batches = 0

    def __call__(self, ticks: list[Tick]) -> None:
        with self._lock:
            self._ticks.extend(ticks)
            self.batches += 1

    @property
    def ticks(self) -> list[Tick]:
        with self._lock:
            return list(self._ticks)

    def wait_for(self, n: int, timeout: float = 10.0) -> list[Tick]:
        return wait_until(lambda: len(self.ticks) >= n and self.ticks, timeout,
                          what=f"{n} ticks")


@pytest.fixture(autouse=True)
def key_never_logged(caplog):
    """Every test: capture all logs at DEBUG (websocket-client's too); no key in them."""
    caplog.set_level(logging.DEBUG)
    yield
    assert FAKE_KEY not in caplog.text


@pytest.fixture
def fake():
    with FakeFinnhub(token=FAKE_KEY) as server:
        yield server


@pytest.fixture
def make_feed(fake):
    """Build feeds aimed at the fake (fast timings); stopped and checked for leaks after."""
    feeds: list[FinnhubFeed] = []

    def make(**params) -> FinnhubFeed:
        params = {"api_key": FAKE_KEY, "ws_url": fake.ws_url, "rest_url": fake.rest_url,
                  **FAST, **params}
        feed = FinnhubFeed(**params)
        feeds.append(feed)
        return feed

    yield make
    for feed in feeds:
        feed.stop()
        assert FAKE_KEY not in repr(feed)
        assert FAKE_KEY not in feed.last_error


@pytest.fixture
def sink():
    return Sink()


@pytest.fixture
def live(make_feed, fake, sink):
    """A started feed, connected to the fake and subscribed to AAPL and TSLA."""
    feed = make_feed()
    feed.subscribe(["AAPL", "TSLA"])
    feed.start(sink)
    conn = fake.wait_connection(1)
    wait_until(lambda: conn.subscribed == {"AAPL", "TSLA"}, what="subscriptions")
    return feed

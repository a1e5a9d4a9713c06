"""Shared fixtures: a hand-driven feed for hub and view tests."""

from __future__ import annotations

import os

import pytest

from app.feeds.base import Feed
from app.hub.hub import Hub
from app.ticks import FeedState, Reference, SymbolInfo, Tick


class ManualFeed(Feed):
    """A feed the test drives: ``push()`` delivers ticks as if from the upstream."""

    feed_type = ""  # not selectable by name
    label = "Manual"
    reference_is_fast = True

    def __init__(self, prev_close: float = 100.0, **params):
        super().__init__(**params)
        self.prev_close = prev_close
        self.sent: list[tuple[str, list[str]]] = []
        self.notes: dict[str, str] = {}  # what unavailable() reports

    def _run(self) -> None:
        self.state = FeedState.LIVE
        self._stop.wait()

    def _send_subscribe(self, symbols):
        self.sent.append(("subscribe", list(symbols)))

    def _send_unsubscribe(self, symbols):
        self.sent.append(("unsubscribe", list(symbols)))

    def universe(self):
        return [SymbolInfo(s, s) for s in ("AAPL", "TSLA", "GOOGL", "MSFT")]

    def unavailable(self):
        return dict(self.notes)

    def reference(self, symbol):
        return Reference(symbol, prev_close=self.prev_close)

    def push(self, symbol: str, price: float, ts: float, size: float = 1.0) -> None:
        self._emit([Tick(symbol, price, size, ts)])


@pytest.fixture
def manual_feed():
    return ManualFeed()


@pytest.fixture
def hand_hub(manual_feed):
    """A started hub on ``manual_feed`` whose cycles the test drives (``hub.publish()``):
    its own clock waits an hour between cycles."""
    hub = Hub(manual_feed, push_interval_ms=3_600_000)
    manual_feed.start(hub._on_ticks)
    yield hub
    hub.stop()


# Tests never write to the user's data directory: history is off unless a test turns
# it on with a path of its own (tests/history/).
os.environ.setdefault("PHOTON_HISTORY", "off")
# Nor keep boards there: saved boards are off unless a test gives a path (tests/boards/).
os.environ.setdefault("PHOTON_BOARDS", "off")
# Stocks trade around the clock in tests (PHOTON_MARKET_HOURS): a run at the weekend sees
# the same board as one on a Tuesday. Tests of the calendar set it themselves.
os.environ.setdefault("PHOTON_MARKET_HOURS", "always")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failure, attach what the served Photon said (its log's tail, /health) and
    what the page showed: a CI run on another machine leaves nothing else to read."""
    report = yield
    if report.when == "call" and report.failed:
        from tests.support import failure_context

        for title, text in failure_context(item.funcargs):
            report.sections.append((title, text))
    return report

"""Reference prices for newly watched symbols: inline for fast sources, on a pool for
slow ones, and a failed lookup tried again while the symbol is watched."""

from __future__ import annotations

import threading

from app.feeds.references import ReferenceLoader
from app.ticks import Reference
from tests.conftest import ManualFeed
from tests.support import wait_until


class FlakyRest(ManualFeed):
    """A slow (REST) source whose first ``failures`` lookups of a symbol answer None."""

    reference_is_fast = False

    def __init__(self, failures: int, **params):
        super().__init__(**params)
        self.failures = failures
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def reference(self, symbol):
        with self._lock:
            self.calls.append(symbol)
            if self.calls.count(symbol) <= self.failures:
                return None
        return Reference(symbol, prev_close=100.0, last=101.0)


class Applied(list):
    def __call__(self, refs):
        self.append(dict(refs))

    def got(self, symbol: str) -> Reference | None:
        return next((b[symbol] for b in reversed(self) if b.get(symbol) is not None), None)


def test_a_failed_lookup_is_tried_again_until_it_answers():
    feed, applied = FlakyRest(failures=2), Applied()
    loader = ReferenceLoader(feed, applied, retry_delays_s=(0.01, 0.01, 0.01))
    try:
        loader.load(["AAPL", "TSLA"])
        wait_until(lambda: applied.got("AAPL") and applied.got("TSLA"), timeout=10,
                   what="both references after two failures")
        assert applied.got("AAPL") == Reference("AAPL", prev_close=100.0, last=101.0)
        assert feed.calls.count("AAPL") == 3 and feed.calls.count("TSLA") == 3
    finally:
        loader.shutdown()


def test_it_gives_up_after_the_last_delay():
    feed, applied = FlakyRest(failures=99), Applied()
    loader = ReferenceLoader(feed, applied, retry_delays_s=(0.01, 0.01))
    try:
        loader.load(["AAPL"])
        wait_until(lambda: len(applied) == 3, timeout=10, what="three tries")
        threading.Event().wait(0.2)  # nothing more is scheduled
        assert feed.calls == ["AAPL"] * 3 and len(applied) == 3
    finally:
        loader.shutdown()


def test_a_symbol_nobody_watches_any_more_is_not_tried_again():
    feed, applied = FlakyRest(failures=99), Applied()
    watched = {"AAPL", "TSLA"}
    loader = ReferenceLoader(feed, applied, watched=lambda s: s in watched,
                             retry_delays_s=(0.05, 0.05, 0.05))
    try:
        loader.load(["AAPL", "TSLA"])
        wait_until(lambda: len(applied) == 1, timeout=10, what="the first try")
        watched.discard("TSLA")
        wait_until(lambda: len(applied) == 4, timeout=10, what="the retries")
        assert feed.calls.count("TSLA") == 1 and feed.calls.count("AAPL") == 4
    finally:
        loader.shutdown()


def test_shutdown_cancels_the_retries_waiting():
    feed, applied = FlakyRest(failures=99), Applied()
    loader = ReferenceLoader(feed, applied, retry_delays_s=(0.3,))
    loader.load(["AAPL"])
    wait_until(lambda: len(applied) == 1, timeout=10, what="the first try")
    loader.shutdown()
    threading.Event().wait(0.6)
    assert feed.calls == ["AAPL"]


def test_a_fast_source_answers_inline_once():
    feed, applied = ManualFeed(prev_close=50.0), Applied()
    loader = ReferenceLoader(feed, applied)
    loader.load(["AAPL"])  # no waiting: the first view has it
    assert applied == [{"AAPL": Reference("AAPL", prev_close=50.0)}]
    loader.shutdown()

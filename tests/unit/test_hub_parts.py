"""The hub's parts on their own: ref counts, the quote book, viewed health, the clock."""

import subprocess
import sys
import threading
from pathlib import Path

from app.cadence import Cadence, Policy
from app.cycle_clock import CycleClock
from app.feeds.base import FeedState, Tick
from app.health import viewed_state
from app.quote_book import QuoteBook
from app.subscriptions import RefCounts

APP = Path(__file__).resolve().parents[2] / "app"


def test_ref_counts_report_first_and_last_watchers_only():
    refs = RefCounts()
    assert refs.acquire(["A", "B"]) == ["A", "B"]
    assert refs.acquire(["A"]) == []
    assert refs.counts() == {"A": 2, "B": 1}
    assert refs.release(["A", "B", "C"]) == ["B"]  # C was never watched: ignored
    assert refs.release(["A"]) == ["A"]
    assert refs.counts() == {} and refs.watched() == []


def test_quote_book_publishes_only_changes_and_forgets_dropped_symbols():
    book = QuoteBook(history_len=3)
    book.add("A")
    book.add("B")
    assert book.publish() == 0  # nothing changed yet: no cycle
    book.fold([Tick("A", 10.0, 1.0, 1.0), Tick("Z", 5.0, 1.0, 1.0)])
    assert book.publish() == 1
    assert book.quote("A").last == 10.0 and book.quote("Z") is None
    changes = book.changes_since(0, ["A", "B"])
    assert [q.symbol for q in changes.quotes] == ["A"] and changes.points["A"] == [(1.0, 10.0)]
    assert book.changes_since(1, ["A"]).quotes == []
    book.drop("A")
    assert book.quote("A") is None and book.history("A") == []


def test_quote_book_notes_mark_and_clear():
    book = QuoteBook()
    book.add("A")
    book.apply_notes({"A": "over the symbol limit"})
    book.publish()
    assert book.quote("A").note == "over the symbol limit"
    book.apply_notes({})
    book.publish()
    assert book.quote("A").note == ""


def test_quiet_live_feed_is_stale_only_while_a_watched_market_is_open():
    from datetime import UTC, datetime

    saturday = lambda: datetime(2026, 11, 28, 15, 0, tzinfo=UTC)  # noqa: E731
    wednesday = lambda: datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # noqa: E731
    live = FeedState.LIVE
    assert viewed_state(live, ["AAPL"], 30, 10, wednesday) is FeedState.STALE
    assert viewed_state(live, ["AAPL"], 30, 10, saturday) is FeedState.MARKET_CLOSED
    assert viewed_state(live, ["AAPL"], 5, 10, wednesday) is live
    assert viewed_state(live, [], 30, 10, wednesday) is live


def test_cycle_clock_runs_cycles_and_survives_a_failing_one():
    calls = []
    done = threading.Event()

    def on_cycle():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("bad cycle")
        if len(calls) >= 3:
            done.set()

    clock = CycleClock(Cadence(Policy(0.01, 0.01)), on_cycle)
    clock.start()
    try:
        assert done.wait(30)
    finally:
        clock.stop()
    assert not clock.running


def test_nothing_below_the_hub_imports_it():
    """Feeds, metrics and the hub's parts sit below the hub: none imports it, not even lazily."""
    below = [APP / "metrics.py", APP / "health.py", APP / "quote_book.py",
             APP / "subscriptions.py", APP / "cycle_clock.py", *(APP / "feeds").glob("*.py")]
    importers = [p.name for p in below if "app.hub" in p.read_text()]
    assert importers == []
    code = "import sys, app.metrics, app.feeds.registry; print('app.hub' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "False"

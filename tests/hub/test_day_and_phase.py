"""The hub names the phase of the day on rows and in its health, and counts the day's
volume (app/hub/quote_book.py, app/hub/health.py, app/views/status.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from app.hub.health import viewed_state, watched_phase
from app.hub.hub import Hub
from app.hub.quote_book import QuoteBook
from app.market_hours import Phase, day_window, symbol_phase
from app.ticks import FeedState, Tick
from app.views.status import state_words, status_values

MONDAY_POST = datetime(2026, 12, 7, 22, 0, tzinfo=UTC)   # 17:00 New York
MONDAY_PRE = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)    # 07:00
MONDAY_OPEN = datetime(2026, 12, 7, 16, 0, tzinfo=UTC)   # 11:00
SATURDAY = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)


def test_the_book_counts_the_days_volume_and_starts_again_on_the_next_day():
    book = QuoteBook()
    book.add("AAPL")
    friday = day_window("AAPL", datetime(2026, 12, 4, 15, 0, tzinfo=UTC).timestamp())
    book.set_day_volume("AAPL", 1_000_000.0, friday)  # the store's Friday before the watch
    book.fold([Tick("AAPL", 10.0, 500, friday[0] + 3600)])
    book.publish()
    assert book.quote("AAPL").volume == 1_000_500
    monday = day_window("AAPL", MONDAY_PRE.timestamp())
    book.fold([Tick("AAPL", 10.1, 20, MONDAY_PRE.timestamp())])  # Monday's first trade
    book.publish()
    q = book.quote("AAPL")
    assert q.volume == 20 and q.traded == 520
    book.set_day_volume("AAPL", 1_000_000.0, friday)  # a late count of Friday: not today's
    book.set_day_volume("AAPL", 300.0, monday)
    book.publish()
    assert book.quote("AAPL").volume == 320


def test_a_change_of_phase_resends_the_row_with_its_words():
    book = QuoteBook()
    book.add("AAPL")
    book.fold([Tick("AAPL", 10.0, 1, 1.0)])
    cycle = book.publish()
    book.apply_sessions(lambda s: "after hours")
    assert book.publish() == cycle + 1  # nothing traded, the row goes out again
    assert book.changes_since(cycle, ["AAPL"]).rows[0]["session"] == "after hours"
    book.apply_sessions(lambda s: "after hours")
    assert book.publish() == cycle + 1  # same words: nothing to send


def test_the_hubs_rows_and_health_say_the_phase_of_its_clock(manual_feed):
    manual_feed.hours = "market"
    now = [MONDAY_POST]
    hub = Hub(manual_feed, push_interval_ms=3_600_000, clock=lambda: now[0])
    manual_feed.start(hub._on_ticks)
    manual_feed.state = FeedState.LIVE
    try:
        with hub.subscribe(["AAPL", "BINANCE:BTCUSDT"]):
            hub.publish()
            assert hub.quote("AAPL").session == "after hours"
            assert hub.quote("BINANCE:BTCUSDT").session == ""  # crypto is always in session
            assert hub.health().phase is Phase.REGULAR  # bitcoin trades: the board is live
        with hub.subscribe(["AAPL"]):
            now[0] = SATURDAY
            hub.publish()
            assert hub.quote("AAPL").session == "market closed"
            assert hub.health().state is FeedState.MARKET_CLOSED
            now[0] = MONDAY_PRE
            hub.publish()
            assert hub.quote("AAPL").session == "pre-market"
            health = hub.health()
            assert health.state is FeedState.LIVE and health.phase is Phase.PRE
            assert status_values(health)["words"] == "pre-market"
            now[0] = MONDAY_OPEN
            hub.publish()
            assert hub.quote("AAPL").session == ""
            assert status_values(hub.health())["words"] == "live"
    finally:
        hub.stop()


def test_quiet_is_stale_only_in_a_regular_session_and_closed_is_said_at_once():
    live = FeedState.LIVE
    assert viewed_state(live, ["AAPL"], 0, 10, lambda: SATURDAY) is FeedState.MARKET_CLOSED
    assert viewed_state(live, ["AAPL"], 60, 10, lambda: MONDAY_PRE) is live  # thin, not stale
    assert viewed_state(live, ["AAPL"], 60, 10, lambda: MONDAY_OPEN) is FeedState.STALE
    assert viewed_state(FeedState.DOWN, ["AAPL"], 0, 10, lambda: SATURDAY) is FeedState.DOWN
    assert watched_phase(["AAPL", "BINANCE:BTCUSDT"], SATURDAY) is Phase.REGULAR
    assert watched_phase(["AAPL"], MONDAY_POST) is Phase.POST
    assert watched_phase([], SATURDAY, symbol_phase) is Phase.CLOSED
    assert state_words(live, Phase.POST) == "after hours"
    assert state_words(FeedState.STALE, Phase.POST) == "stale"

"""Viewed health (app/hub/health.py): a quiet live feed is stale only while a market is open."""

from app.hub.health import viewed_state
from app.ticks import FeedState


def test_quiet_live_feed_is_stale_only_while_a_watched_market_is_open():
    from datetime import UTC, datetime

    saturday = lambda: datetime(2026, 11, 28, 15, 0, tzinfo=UTC)  # noqa: E731
    wednesday = lambda: datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # noqa: E731
    live = FeedState.LIVE
    assert viewed_state(live, ["AAPL"], 30, 10, wednesday) is FeedState.STALE
    assert viewed_state(live, ["AAPL"], 30, 10, saturday) is FeedState.MARKET_CLOSED
    assert viewed_state(live, ["AAPL"], 5, 10, wednesday) is live
    assert viewed_state(live, [], 30, 10, wednesday) is live

"""Pure text helpers of the views: URL query and status wording."""


def test_url_query_keeps_other_parameters_and_readable_commas():
    from app.views.dashboard import with_symbols_query

    assert with_symbols_query("", ["AAPL", "TSLA"]) == "?symbols=AAPL,TSLA"
    assert with_symbols_query("?theme=dark&symbols=X", ["BINANCE:BTCUSDT"]) == (
        "?theme=dark&symbols=BINANCE:BTCUSDT")
    assert with_symbols_query("?symbols=A", []) == "?symbols="

def test_status_words_and_stale_note():
    from app.ticks import FeedState
    from app.views.status import age_text, stale_note

    assert stale_note(FeedState.LIVE) == ""
    assert stale_note(FeedState.MARKET_CLOSED).startswith("Market closed")
    assert "stale" in stale_note(FeedState.STALE)
    assert "authentication failed" in stale_note(FeedState.AUTH_FAILED)
    assert [age_text(a) for a in (None, 0.2, 12.7, 600)] == [
        "no ticks yet", "<1 s", "12 s", "10 min"]


def test_status_values_carry_when_the_feed_retries():
    from app.hub.hub import Health
    from app.ticks import FeedState
    from app.views.status import status_values

    down = Health("finnhub", "Finnhub", FeedState.DOWN, "disconnected: connection closed",
                  3.0, 3.0, 2, 1, 1, retry_at=1_700_000_012.5)
    values = status_values(down)
    assert (values["words"], values["detail"], values["retry_at"]) == (
        "disconnected", "disconnected: connection closed", 1_700_000_012.5)
    live = Health("finnhub", "Finnhub", FeedState.LIVE, "", 0.1, 0.1, 2, 1, 1)
    assert status_values(live)["retry_at"] == 0.0


def test_relay_down_in_words():
    from app.ticks import FeedState
    from app.views.status import STATE_WORDS, stale_note

    assert STATE_WORDS[FeedState.RELAY_DOWN] == "relay down"
    assert "relay down" in stale_note(FeedState.RELAY_DOWN)

"""The Redis formats (app.feeds.redis_formats): what the relay writes, servers read back."""

from __future__ import annotations

import time

import pytest

from app import symbols
from app.feeds import redis_formats as bus
from app.ticks import FeedState, Reference, SymbolInfo, Tick


def test_the_symbol_syntax_is_the_pages():
    assert bus.SYMBOL_RE.pattern == symbols.SYMBOL_RE.pattern


def test_ticks_round_trip_and_big_batches_split_into_accepted_messages():
    ticks = [Tick("AAPL", 100.0 + i / 100, float(i), 1.7e9 + i) for i in range(12_001)]
    parts = bus.batches(ticks)
    assert [len(p) for p in parts] == [5000, 5000, 2001]
    decoded = [t for p in parts for t in bus.decode_ticks("AAPL", bus.encode_ticks(p, 1.7e9))[1]]
    assert decoded == ticks
    assert all(len(bus.encode_ticks(p, 1.7e9)) < bus.MAX_MESSAGE_BYTES for p in parts)


def test_the_feed_hash_round_trips_and_long_texts_are_cut_to_fit():
    now = time.time()
    status = bus.FeedStatus(beat=now, state=FeedState.DOWN, feed="finnhub", label="F" * 300,
                            last_error="e" * 5000, reconnects=3, relay="r1", retry_at=now + 2,
                            msg_at=now - 1, notes={"AAPL": "n" * 900})
    back = bus.decode_feed(bus.encode_feed(status), now=now)
    assert (back.state, back.feed, back.reconnects, back.retry_at, back.msg_at) == (
        FeedState.DOWN, "finnhub", 3, status.retry_at, status.msg_at)
    assert len(back.label) == 100 and len(back.last_error) == bus.MAX_TEXT
    assert back.notes == {"AAPL": "n" * bus.MAX_TEXT}
    assert bus.decode_feed({}) is None  # no relay has beaten yet


def test_universe_and_quote_round_trip():
    infos = [SymbolInfo("AAPL", "Apple Inc."), SymbolInfo("BINANCE:BTCUSDT", "Bitcoin")]
    assert bus.decode_universe(bus.encode_universe(False, infos)) == (False, infos)
    fields = bus.encode_quote({"prev_close": 99.5, "last": 101.0, "volume": 0.0,
                               "ts": 1.7e9, "open": None})
    assert bus.decode_reference("AAPL", {k.encode(): v.encode() for k, v in fields.items()}) \
        == Reference("AAPL", prev_close=99.5, last=101.0)


@pytest.mark.parametrize("members", [["AAPL", "aapl", "<b>", b"\xff", "MSFT"]])
def test_a_declaration_keeps_valid_symbols_and_counts_the_rest(members):
    assert bus.decode_declaration(members) == ({"AAPL", "MSFT"}, 3)
    with pytest.raises(bus.Malformed):
        bus.decode_declaration([f"S{i}" for i in range(bus.MAX_DECLARED + 1)])
    with pytest.raises(bus.Malformed):
        bus.decode_proc("../etc")

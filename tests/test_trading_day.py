"""The phases of a trading day (app.market_hours) and the day's volume of a quote
(app.quotes): what the board says outside the regular session, and what VOLUME counts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.market_hours import (
    Phase,
    day_window,
    extended_session,
    last_sessions,
    phase_in,
    symbol_phase,
    us_phase,
)
from app.quotes import Quote, apply_day_volume, apply_reference, fold, new_day, quote_row
from app.ticks import Reference, Tick


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(("at", "phase"), [
    ("2026-12-07T08:59:59", Phase.CLOSED),   # Monday 03:59 New York
    ("2026-12-07T09:00:00", Phase.PRE),      # 04:00: the pre-market opens
    ("2026-12-07T14:29:59", Phase.PRE),
    ("2026-12-07T14:30:00", Phase.REGULAR),  # 09:30
    ("2026-12-07T21:00:00", Phase.POST),     # 16:00: after hours
    ("2026-12-08T00:59:59", Phase.POST),
    ("2026-12-08T01:00:00", Phase.CLOSED),   # 20:00
    ("2026-12-05T15:00:00", Phase.CLOSED),   # a Saturday
    ("2026-12-25T15:00:00", Phase.CLOSED),   # Christmas
    ("2026-11-27T18:30:00", Phase.POST),     # the day after Thanksgiving closes at 13:00
    ("2026-11-27T22:00:00", Phase.CLOSED),   # ... and its after hours at 17:00
    ("2026-07-07T12:00:00", Phase.PRE),      # summer time: 08:00 New York
])
def test_the_phases_of_a_us_trading_day(at, phase):
    assert us_phase(utc(at)) is phase
    assert symbol_phase("AAPL", utc(at)) is phase


def test_crypto_and_fx_keep_their_own_hours_whatever_the_calendar_holds():
    saturday = utc("2026-12-05T15:00:00")
    assert symbol_phase("BINANCE:BTCUSDT", saturday) is Phase.REGULAR
    assert symbol_phase("OANDA:EUR_USD", saturday) is Phase.CLOSED
    assert phase_in("post", "AAPL", saturday) is Phase.POST
    assert phase_in("always", "AAPL", saturday) is Phase.REGULAR
    assert phase_in("closed", "BINANCE:BTCUSDT", saturday) is Phase.REGULAR
    assert phase_in("market", "AAPL", saturday) is Phase.CLOSED


def test_a_trading_day_runs_from_the_pre_market_to_the_end_of_after_hours():
    pre, open_, close, end = extended_session(utc("2026-12-04T12:00:00").date())
    assert (pre.hour, open_.hour, open_.minute, close.hour, end.hour) == (4, 9, 30, 16, 20)
    friday = day_window("AAPL", utc("2026-12-04T15:00:00").timestamp())
    assert friday == (int(pre.timestamp()), int(end.timestamp()))
    # a Saturday, or Monday before 04:00 New York: the last day, Friday's
    assert day_window("AAPL", utc("2026-12-05T15:00:00").timestamp()) == friday
    assert day_window("AAPL", utc("2026-12-07T08:00:00").timestamp()) == friday
    btc = day_window("BINANCE:BTCUSDT", utc("2026-12-05T15:00:00").timestamp())
    assert btc == (int(utc("2026-12-05T00:00:00").timestamp()),
                   int(utc("2026-12-06T00:00:00").timestamp()))
    five = last_sessions("AAPL", utc("2026-12-07T15:00:00").timestamp(), 5)
    assert [datetime.fromtimestamp(s, UTC).day for s, _ in five] == [1, 2, 3, 4, 7]


def test_the_day_volume_is_the_stored_or_provided_day_plus_live_trades():
    q = fold(Quote("AAPL"), Tick("AAPL", 10.0, 100, 1.0))
    assert (q.volume, q.traded) == (100, 100)
    q = apply_day_volume(q, 5000)  # the store's sum of the day before the live trades
    assert (q.volume, q.traded, q.day_base) == (5100, 100, 5000)
    q = apply_day_volume(q, 4000)  # a smaller count of the same trades changes nothing
    assert q.volume == 5100
    q = apply_reference(q, Reference("AAPL", prev_close=9.0, volume=6000.0))  # the provider's
    assert q.volume == 6100 and q.prev_close == 9.0
    q = fold(q, Tick("AAPL", 10.5, 50, 2.0))
    assert (q.volume, q.traded) == (6150, 150)
    assert quote_row(q)["volume"] == "6.15K"
    q = new_day(q)  # the next trading day counts from zero; the live total goes on
    assert (q.volume, q.day_base, q.traded) == (0.0, 0.0, 150)
    assert apply_day_volume(q, float("nan")) is q


def test_a_rows_session_words_go_with_it():
    assert quote_row(Quote("AAPL", session="after hours"))["session"] == "after hours"
    assert "session" not in quote_row(Quote("AAPL"))  # regular: nothing extra each cycle

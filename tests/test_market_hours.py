"""Market hours (app.market_hours): US sessions, DST, holidays by rule; FX 24/5, crypto 24/7."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from app.market_hours import (
    NEW_YORK,
    early_closes,
    easter,
    fx_market_open,
    holiday_name,
    holidays,
    is_crypto_or_fx,
    is_fx,
    is_trading_day,
    next_close,
    next_open,
    session,
    symbol_open,
    us_market_open,
)


def ny(*args: int) -> datetime:
    """A New York wall-clock time."""
    return datetime(*args, tzinfo=NEW_YORK)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# -- the regular session --------------------------------------------------------
@pytest.mark.parametrize(
    ("when", "is_open"),
    [
        (ny(2025, 6, 10, 9, 29, 59), False),
        (ny(2025, 6, 10, 9, 30), True),
        (ny(2025, 6, 10, 12, 0), True),
        (ny(2025, 6, 10, 15, 59), True),
        (ny(2025, 6, 10, 15, 59, 59, 999999), True),
        (ny(2025, 6, 10, 16, 0), False),
        (ny(2025, 6, 10, 0, 0), False),
        (ny(2025, 6, 10, 23, 59), False),
    ],
)
def test_weekday_boundaries_in_new_york_time(when, is_open):
    assert us_market_open(when) is is_open


@pytest.mark.parametrize(
    ("when", "is_open"),
    [
        # Summer (EDT, UTC-4): 09:30-16:00 New York is 13:30-20:00 UTC.
        (utc(2025, 7, 15, 13, 29, 59), False),
        (utc(2025, 7, 15, 13, 30), True),
        (utc(2025, 7, 15, 19, 59), True),
        (utc(2025, 7, 15, 20, 0), False),
        # Winter (EST, UTC-5): 14:30-21:00 UTC.
        (utc(2025, 1, 15, 13, 30), False),
        (utc(2025, 1, 15, 14, 29, 59), False),
        (utc(2025, 1, 15, 14, 30), True),
        (utc(2025, 1, 15, 20, 59), True),
        (utc(2025, 1, 15, 21, 0), False),
        # First trading day after the spring change (Sunday 2025-03-09): already EDT.
        (utc(2025, 3, 7, 14, 30), True),  # Friday before, EST
        (utc(2025, 3, 10, 13, 30), True),  # Monday after, EDT
        (utc(2025, 3, 10, 13, 29, 59), False),
        (utc(2025, 3, 10, 20, 0), False),
        # The autumn change (Sunday 2025-11-02): back to EST on Monday.
        (utc(2025, 10, 31, 13, 30), True),  # Friday before, EDT
        (utc(2025, 11, 3, 13, 30), False),  # Monday after: 08:30 New York
        (utc(2025, 11, 3, 14, 30), True),
        (utc(2025, 11, 3, 20, 30), True),  # 15:30 New York
        (utc(2025, 11, 3, 21, 0), False),
        # 2026 changes: March 8 and November 1.
        (utc(2026, 3, 9, 13, 30), True),
        (utc(2026, 11, 2, 14, 29), False),
        (utc(2026, 11, 2, 14, 30), True),
    ],
)
def test_boundaries_from_utc_across_dst(when, is_open):
    assert us_market_open(when) is is_open


def test_other_fixed_offsets_are_converted():
    tokyo = timezone(timedelta(hours=9))
    # 2025-06-10 22:30 Tokyo is 09:30 New York (EDT).
    assert us_market_open(datetime(2025, 6, 10, 22, 30, tzinfo=tokyo))
    assert not us_market_open(datetime(2025, 6, 10, 22, 29, tzinfo=tokyo))


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        us_market_open(datetime(2025, 6, 10, 12, 0))
    with pytest.raises(ValueError):
        next_open(datetime(2025, 6, 10, 12, 0))


def test_default_is_the_current_time():
    assert isinstance(us_market_open(), bool)
    assert next_open() > datetime.now(UTC)


@pytest.mark.parametrize("day", [date(2025, 6, 14), date(2025, 6, 15), date(2026, 1, 3),
                                 date(2026, 1, 4)])
def test_weekends_are_closed_all_day(day):
    assert not is_trading_day(day)
    assert session(day) is None
    for hour in (0, 9, 10, 12, 15, 23):
        assert not us_market_open(datetime(day.year, day.month, day.day, hour, 45,
                                           tzinfo=NEW_YORK))


# -- holidays -------------------------------------------------------------------
NYSE_2025 = {
    date(2025, 1, 1), date(2025, 1, 9), date(2025, 1, 20), date(2025, 2, 17),
    date(2025, 4, 18), date(2025, 5, 26), date(2025, 6, 19), date(2025, 7, 4),
    date(2025, 9, 1), date(2025, 11, 27), date(2025, 12, 25),
}
NYSE_2026 = {
    date(2026, 1, 1), date(2026, 1, 19), date(2026, 2, 16), date(2026, 4, 3),
    date(2026, 5, 25), date(2026, 6, 19), date(2026, 7, 3), date(2026, 9, 7),
    date(2026, 11, 26), date(2026, 12, 25),
}
NYSE_2027 = {
    date(2027, 1, 1), date(2027, 1, 18), date(2027, 2, 15), date(2027, 3, 26),
    date(2027, 5, 31), date(2027, 6, 18), date(2027, 7, 5), date(2027, 9, 6),
    date(2027, 11, 25), date(2027, 12, 24),
}


@pytest.mark.parametrize(("year", "expected"), [(2025, NYSE_2025), (2026, NYSE_2026),
                                                (2027, NYSE_2027)])
def test_holiday_calendar_matches_the_published_nyse_one(year, expected):
    assert set(holidays(year)) == expected
    assert list(holidays(year)) == sorted(expected)  # in date order


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2026, 4, 3), "Good Friday"),
        (date(2025, 4, 18), "Good Friday"),
        (date(2027, 3, 26), "Good Friday"),
        (date(2026, 7, 3), "Independence Day (observed)"),  # July 4 2026 is a Saturday
        (date(2027, 7, 5), "Independence Day (observed)"),  # Sunday
        (date(2027, 6, 18), "Juneteenth (observed)"),  # Saturday
        (date(2022, 6, 20), "Juneteenth (observed)"),  # first year, a Sunday
        (date(2027, 12, 24), "Christmas Day (observed)"),  # Saturday
        (date(2022, 12, 26), "Christmas Day (observed)"),  # Sunday
        (date(2023, 1, 2), "New Year's Day (observed)"),  # Sunday
        (date(2025, 11, 27), "Thanksgiving Day"),
        (date(2026, 9, 7), "Labor Day"),
        (date(2026, 5, 25), "Memorial Day"),
        (date(2026, 1, 19), "Martin Luther King Jr. Day"),
        (date(2026, 2, 16), "Washington's Birthday"),
        (date(2025, 1, 9), "National Day of Mourning (Jimmy Carter)"),
    ],
)
def test_holidays_close_the_whole_day(day, name):
    assert holiday_name(day) == name
    assert not is_trading_day(day)
    assert session(day) is None
    assert not us_market_open(datetime(day.year, day.month, day.day, 12, 0, tzinfo=NEW_YORK))


def test_saturday_new_year_is_not_made_up_on_the_friday_before():
    # 2028-01-01 is a Saturday: NYSE stays open on Friday 2027-12-31.
    assert date(2028, 1, 1).weekday() == 5
    assert holiday_name(date(2027, 12, 31)) is None
    assert is_trading_day(date(2027, 12, 31))
    assert us_market_open(ny(2027, 12, 31, 10, 0))
    assert not any(d.month == 1 and d.day <= 2 for d in holidays(2028))
    # Same in 2022 (Saturday): 2021-12-31 was a normal full session.
    assert us_market_open(ny(2021, 12, 31, 15, 30))


def test_juneteenth_only_from_2022():
    assert holiday_name(date(2021, 6, 18)) is None  # Saturday 19th, not yet a holiday
    assert is_trading_day(date(2021, 6, 18))
    assert holiday_name(date(2023, 6, 19)) == "Juneteenth"


def test_days_next_to_holidays_are_normal():
    assert us_market_open(ny(2026, 4, 2, 15, 59))  # Thursday before Good Friday
    assert us_market_open(ny(2026, 4, 6, 9, 30))  # Easter Monday is a trading day
    assert us_market_open(ny(2027, 12, 23, 15, 59))  # before observed Christmas: full day


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (2024, date(2024, 3, 31)),
        (2025, date(2025, 4, 20)),
        (2026, date(2026, 4, 5)),
        (2027, date(2027, 3, 28)),
        (2038, date(2038, 4, 25)),  # latest possible
        (2285, date(2285, 3, 22)),  # earliest possible
    ],
)
def test_easter_computus(year, expected):
    assert easter(year) == expected


# -- early closes ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (2025, [date(2025, 7, 3), date(2025, 11, 28), date(2025, 12, 24)]),
        (2026, [date(2026, 11, 27), date(2026, 12, 24)]),  # July 3 is the holiday itself
        (2027, [date(2027, 11, 26)]),  # Dec 24 is observed Christmas; July 3 a Saturday
        (2024, [date(2024, 7, 3), date(2024, 11, 29), date(2024, 12, 24)]),
    ],
)
def test_early_closes(year, expected):
    assert early_closes(year) == expected


def test_early_close_ends_at_one():
    assert us_market_open(ny(2025, 11, 28, 12, 59, 59))
    assert not us_market_open(ny(2025, 11, 28, 13, 0))
    assert not us_market_open(utc(2025, 12, 24, 18, 0))  # 13:00 EST
    assert us_market_open(utc(2025, 12, 24, 17, 59))
    assert session(date(2025, 7, 3)) == (ny(2025, 7, 3, 9, 30), ny(2025, 7, 3, 13, 0))
    assert session(date(2025, 7, 2)) == (ny(2025, 7, 2, 9, 30), ny(2025, 7, 2, 16, 0))


# -- next open / close ----------------------------------------------------------
def test_next_open_later_the_same_day():
    assert next_open(ny(2025, 6, 10, 4, 0)) == ny(2025, 6, 10, 9, 30)
    assert next_open(ny(2025, 6, 10, 9, 29, 59)) == ny(2025, 6, 10, 9, 30)


def test_next_open_while_open_is_the_next_session():
    assert next_open(ny(2025, 6, 10, 9, 30)) == ny(2025, 6, 11, 9, 30)
    assert next_open(ny(2025, 6, 10, 16, 0)) == ny(2025, 6, 11, 9, 30)


def test_next_open_across_a_weekend():
    friday_close = ny(2025, 6, 13, 16, 0)
    assert next_open(friday_close) == ny(2025, 6, 16, 9, 30)
    assert next_open(ny(2025, 6, 14, 12, 0)) == ny(2025, 6, 16, 9, 30)
    # Given and answered across time zones: Saturday in UTC, Monday 13:30 UTC (EDT).
    assert next_open(utc(2025, 6, 14, 2, 0)) == utc(2025, 6, 16, 13, 30)


def test_next_open_across_a_holiday_weekend():
    # Good Friday 2026 (April 3): Thursday's close leads to Monday April 6.
    assert next_open(ny(2026, 4, 2, 16, 0)) == ny(2026, 4, 6, 9, 30)
    # Observed Christmas 2027 (Friday Dec 24) + weekend: next open Monday Dec 27.
    assert next_open(ny(2027, 12, 23, 17, 0)) == ny(2027, 12, 27, 9, 30)
    # Labor Day 2026 (Monday Sept 7) after a weekend.
    assert next_open(ny(2026, 9, 4, 20, 0)) == ny(2026, 9, 8, 9, 30)
    # New Year 2026 (Thursday): New Year's Eve evening leads to Friday Jan 2.
    assert next_open(ny(2025, 12, 31, 18, 0)) == ny(2026, 1, 2, 9, 30)


def test_next_open_across_the_spring_dst_change():
    # Friday 2025-03-07 after close (EST) to Monday 2025-03-10 09:30 EDT = 13:30 UTC.
    result = next_open(utc(2025, 3, 7, 22, 0))
    assert result == utc(2025, 3, 10, 13, 30)
    assert result.utcoffset() == timedelta(hours=-4)


def test_next_open_is_in_new_york_time():
    result = next_open(utc(2025, 6, 14, 2, 0))
    assert result.tzinfo is NEW_YORK
    assert (result.hour, result.minute) == (9, 30)


def test_next_close():
    assert next_close(ny(2025, 6, 10, 10, 0)) == ny(2025, 6, 10, 16, 0)
    assert next_close(ny(2025, 11, 28, 10, 0)) == ny(2025, 11, 28, 13, 0)  # early close
    assert next_close(ny(2025, 6, 13, 16, 0)) == ny(2025, 6, 16, 16, 0)


# -- symbols --------------------------------------------------------------------
@pytest.mark.parametrize("symbol", ["BINANCE:BTCUSDT", "COINBASE:ETH-USD", "OANDA:EUR_USD",
                                    "KRAKEN:XBTUSD", "FXCM:GBP/USD"])
def test_prefixed_symbols_are_crypto_or_fx(symbol):
    assert is_crypto_or_fx(symbol)


@pytest.mark.parametrize("symbol", ["AAPL", "BRK.B", "TSLA", "", ":", "BINANCE:", ":BTC"])
def test_plain_tickers_are_us_stocks(symbol):
    assert not is_crypto_or_fx(symbol)


@pytest.mark.parametrize(
    "when",
    [
        ny(2025, 6, 14, 3, 0),  # Saturday night
        ny(2025, 12, 25, 12, 0),  # Christmas
        ny(2026, 4, 3, 12, 0),  # Good Friday
        ny(2025, 6, 10, 20, 0),  # weekday evening
        ny(2025, 6, 10, 12, 0),  # in session
    ],
)
def test_crypto_is_always_open(when):
    assert symbol_open("BINANCE:BTCUSDT", when)
    assert symbol_open("COINBASE:ETH-USD", when)


def test_stocks_follow_the_us_session():
    assert symbol_open("AAPL", ny(2025, 6, 10, 12, 0))
    assert not symbol_open("AAPL", ny(2025, 6, 14, 12, 0))
    assert not symbol_open("AAPL", ny(2026, 4, 3, 12, 0))
    assert not symbol_open("MSFT", utc(2025, 6, 10, 20, 0))


@pytest.mark.parametrize("symbol, fx", [("OANDA:EUR_USD", True), ("FXCM:GBP/USD", True),
                                        ("oanda:usd_jpy", True), ("BINANCE:BTCUSDT", False),
                                        ("COINBASE:ETH-USD", False), ("AAPL", False)])
def test_forex_venues_are_told_from_crypto(symbol, fx):
    assert is_fx(symbol) is fx


@pytest.mark.parametrize(
    "when, is_open",
    [
        (ny(2025, 6, 13, 16, 59), True),  # Friday before the New York close
        (ny(2025, 6, 13, 17, 0), False),  # Friday 17:00: the week ends
        (ny(2025, 6, 14, 12, 0), False),  # Saturday
        (ny(2025, 6, 15, 16, 59), False),  # Sunday before the open
        (ny(2025, 6, 15, 17, 0), True),  # Sunday 17:00: Sydney opens the week
        (ny(2025, 6, 11, 3, 0), True),  # Wednesday night
        (ny(2025, 12, 25, 12, 0), True),  # a stock-market holiday is not an FX one
    ],
)
def test_fx_trades_from_sunday_to_friday_new_york_evening(when, is_open):
    assert fx_market_open(when) is is_open
    assert symbol_open("OANDA:EUR_USD", when) is is_open
    assert symbol_open("BINANCE:BTCUSDT", when)  # crypto never closes

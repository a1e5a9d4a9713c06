"""US equity market hours, so a quiet feed can say "market closed" instead of "stale".

Pure functions, no I/O: NYSE regular session (09:30–16:00 America/New_York,
Monday–Friday), full-day holidays computed by rule (NYSE Rule 7.2), the usual
13:00 early closes, and a short list of unscheduled closures. Extended-hours
trading is deliberately *not* counted as open: the board's notion of "open" is
the regular session, when a silent US ticker really is a problem. The extended
hours are a :class:`Phase` of their own (pre-market from 04:00, after hours until
20:00; 17:00 on early-close days), which the board names on its rows and status line.

Symbols with a venue prefix (``BINANCE:BTCUSDT``, ``OANDA:EUR_USD``) are Finnhub
crypto/FX instruments; plain tickers are US stocks. Crypto trades around the clock;
FX trades 24/5, from Sunday 17:00 to Friday 17:00 New York time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")
OPEN_TIME = time(9, 30)
CLOSE_TIME = time(16, 0)
EARLY_CLOSE_TIME = time(13, 0)
#: Extended hours: pre-market opens at 04:00, after hours end 4 hours after the close.
PRE_OPEN_TIME = time(4, 0)
AFTER_HOURS = timedelta(hours=4)

#: Unscheduled full-day closures (storms, national days of mourning) no rule predicts.
UNSCHEDULED_CLOSURES: dict[date, str] = {
    date(2012, 10, 29): "Hurricane Sandy",
    date(2012, 10, 30): "Hurricane Sandy",
    date(2018, 12, 5): "National Day of Mourning (George H. W. Bush)",
    date(2025, 1, 9): "National Day of Mourning (Jimmy Carter)",
}

#: Finnhub's forex venues (``/forex/exchange``), as they prefix symbols. Any other
#: prefixed symbol is taken to be crypto.
FX_VENUES = frozenset({"OANDA", "FXCM", "FOREX", "FOREX.COM", "IC MARKETS", "ICMTRADER",
                       "FXPRO", "OCTAFX", "PEPPERSTONE", "FXPIG"})
#: The FX week opens Sunday and closes Friday at this New York time (the Sydney open
#: and the New York close by market convention).
FX_ROLL_TIME = time(17, 0)

#: How far ``next_open`` looks ahead before giving up (no gap is anywhere near this).
_MAX_SEARCH_DAYS = 30


# -- symbols --------------------------------------------------------------------
def is_crypto_or_fx(symbol: str) -> bool:
    """True for venue-prefixed symbols (``BINANCE:BTCUSDT``, ``OANDA:EUR_USD``).

    Finnhub names US stocks with plain tickers and everything else with a
    ``VENUE:`` prefix; those are crypto and FX, which the board treats as 24/7.
    """
    venue, sep, rest = symbol.strip().partition(":")
    return bool(sep and venue and rest)


def is_fx(symbol: str) -> bool:
    """True for a symbol on one of Finnhub's forex venues (``OANDA:EUR_USD``)."""
    venue = symbol.strip().partition(":")[0].upper()
    return is_crypto_or_fx(symbol) and venue in FX_VENUES


def symbol_open(symbol: str, now: datetime | None = None) -> bool:
    """Whether ``symbol``'s market is in session at ``now`` (aware; default: current time)."""
    if is_fx(symbol):
        return fx_market_open(now)
    return is_crypto_or_fx(symbol) or us_market_open(now)


# -- the calendar ---------------------------------------------------------------
def easter(year: int) -> date:
    """Western (Gregorian) Easter Sunday: the anonymous Gregorian computus."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month, day = divmod(h + l_ - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The ``n``-th ``weekday`` (Mon=0) of the month; ``n=-1`` for the last one."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    nxt = date(year + month // 12, month % 12 + 1, 1)
    last = nxt - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(d: date) -> date:
    """Saturday holidays move to Friday, Sunday ones to Monday (NYSE Rule 7.2)."""
    if d.weekday() == 5:
        return d - timedelta(days=1)
    if d.weekday() == 6:
        return d + timedelta(days=1)
    return d


def _add(days: dict[date, str], actual: date, name: str) -> None:
    """Record a fixed-date holiday on its observed day, saying when it moved."""
    observed = _observed(actual)
    days[observed] = name if observed == actual else f"{name} (observed)"


@lru_cache(maxsize=64)
def _holidays(year: int) -> dict[date, str]:
    days: dict[date, str] = {}
    # New Year's Day: a Saturday one is not made up on Friday Dec 31 (the
    # previous year's last business day), so only the Sunday rule applies.
    new_year = date(year, 1, 1)
    if new_year.weekday() == 6:
        days[new_year + timedelta(days=1)] = "New Year's Day (observed)"
    elif new_year.weekday() < 5:
        days[new_year] = "New Year's Day"
    if year >= 1998:
        days[_nth_weekday(year, 1, 0, 3)] = "Martin Luther King Jr. Day"
    days[_nth_weekday(year, 2, 0, 3)] = "Washington's Birthday"
    days[easter(year) - timedelta(days=2)] = "Good Friday"
    days[_nth_weekday(year, 5, 0, -1)] = "Memorial Day"
    if year >= 2022:
        _add(days, date(year, 6, 19), "Juneteenth")
    _add(days, date(year, 7, 4), "Independence Day")
    days[_nth_weekday(year, 9, 0, 1)] = "Labor Day"
    days[_nth_weekday(year, 11, 3, 4)] = "Thanksgiving Day"
    _add(days, date(year, 12, 25), "Christmas Day")
    for d, name in UNSCHEDULED_CLOSURES.items():
        if d.year == year:
            days[d] = name
    return days


def holidays(year: int) -> dict[date, str]:
    """NYSE full-day closures on weekdays of ``year``: {date: name}, in date order."""
    return dict(sorted(_holidays(year).items()))


def holiday_name(d: date) -> str | None:
    """The closure's name if the exchange is shut all day on weekday ``d``, else None."""
    return _holidays(d.year).get(d)


@lru_cache(maxsize=64)
def _early_closes(year: int) -> frozenset[date]:
    closed = _holidays(year)
    days: set[date] = set()
    july3 = date(year, 7, 3)
    if july3.weekday() < 4:  # Mon-Thu: July 4 is Tue-Fri. Friday July 3 is a holiday.
        days.add(july3)
    days.add(_nth_weekday(year, 11, 3, 4) + timedelta(days=1))  # day after Thanksgiving
    christmas_eve = date(year, 12, 24)
    if christmas_eve.weekday() < 5:
        days.add(christmas_eve)
    return frozenset(d for d in days if d not in closed)


def early_closes(year: int) -> list[date]:
    """Days of ``year`` the regular session ends at 13:00 New York time."""
    return sorted(_early_closes(year))


def is_trading_day(d: date) -> bool:
    """A weekday that is not an NYSE full-day holiday."""
    return d.weekday() < 5 and d not in _holidays(d.year)


def session(d: date) -> tuple[datetime, datetime] | None:
    """Regular-session (open, close) of ``d`` in New York time, or None if closed all day."""
    if not is_trading_day(d):
        return None
    close = EARLY_CLOSE_TIME if d in _early_closes(d.year) else CLOSE_TIME
    return (datetime.combine(d, OPEN_TIME, NEW_YORK), datetime.combine(d, close, NEW_YORK))


# -- the clock ------------------------------------------------------------------
def _to_new_york(now: datetime | None) -> datetime:
    """``now`` as New York time; naive datetimes are refused as ambiguous."""
    if now is None:
        now = datetime.now(UTC)
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("market hours need a timezone-aware datetime")
    return now.astimezone(NEW_YORK)


def us_market_open(now: datetime | None = None) -> bool:
    """Whether the NYSE regular session is on at ``now`` (aware; default: current time).

    Open is inclusive, close exclusive: 09:30:00 is open, 16:00:00 is closed.
    """
    ny = _to_new_york(now)
    hours = session(ny.date())
    return hours is not None and hours[0] <= ny < hours[1]


def fx_market_open(now: datetime | None = None) -> bool:
    """Whether the FX week is on: Sunday 17:00 to Friday 17:00 New York time."""
    ny = _to_new_york(now)
    weekday = ny.weekday()  # Monday is 0
    if weekday == 5:
        return False
    if weekday == 6:
        return ny.time() >= FX_ROLL_TIME
    if weekday == 4:
        return ny.time() < FX_ROLL_TIME
    return True


def next_open(now: datetime | None = None) -> datetime:
    """The first regular-session open strictly after ``now``, in New York time.

    Called while the market is open, this is the *next* session's open.
    """
    return _next_boundary(now, 0)


def next_close(now: datetime | None = None) -> datetime:
    """The first regular-session close strictly after ``now``, in New York time."""
    return _next_boundary(now, 1)


def _next_boundary(now: datetime | None, which: int) -> datetime:
    """First session open (``which=0``) or close (``1``) strictly after ``now``."""
    ny = _to_new_york(now)
    d = ny.date()
    for _ in range(_MAX_SEARCH_DAYS):
        hours = session(d)
        if hours is not None and hours[which] > ny:
            return hours[which]
        d += timedelta(days=1)
    raise RuntimeError(f"no NYSE session within {_MAX_SEARCH_DAYS} days of {ny}")


# -- phases of the trading day -------------------------------------------------
class Phase(StrEnum):
    """Where a market is in its day: what the board says next to a price."""

    PRE = "pre"
    REGULAR = "regular"
    POST = "post"
    CLOSED = "closed"


#: What a viewer reads for each phase; the regular session is simply "live".
PHASE_WORDS = {Phase.PRE: "pre-market", Phase.REGULAR: "live", Phase.POST: "after hours",
               Phase.CLOSED: "market closed"}


def extended_session(d: date) -> tuple[datetime, datetime, datetime, datetime] | None:
    """(pre-market open, open, close, after-hours end) of ``d`` in New York time, or
    None if the exchange is closed all day."""
    hours = session(d)
    if hours is None:
        return None
    return (datetime.combine(d, PRE_OPEN_TIME, NEW_YORK), hours[0], hours[1],
            hours[1] + AFTER_HOURS)


def us_phase(now: datetime | None = None) -> Phase:
    """The US stock market's phase at ``now`` (aware; default: current time)."""
    ny = _to_new_york(now)
    bounds = extended_session(ny.date())
    if bounds is None or not bounds[0] <= ny < bounds[3]:
        return Phase.CLOSED
    if ny < bounds[1]:
        return Phase.PRE
    return Phase.REGULAR if ny < bounds[2] else Phase.POST


def symbol_phase(symbol: str, now: datetime | None = None) -> Phase:
    """``symbol``'s phase at ``now``: crypto is always in session, FX through its week,
    stocks by the NYSE day with its extended hours."""
    if is_fx(symbol):
        return Phase.REGULAR if fx_market_open(now) else Phase.CLOSED
    if is_crypto_or_fx(symbol):
        return Phase.REGULAR
    return us_phase(now)


#: Calendars a process may follow (PHOTON_MARKET_HOURS): the exchange's, or one phase
#: held for stocks (to run a demo at night, or test how the board says each phase).
HOURS = ("market", "always", "pre", "post", "closed")
_HELD = {"always": Phase.REGULAR, "pre": Phase.PRE, "post": Phase.POST,
         "closed": Phase.CLOSED}


def phase_in(hours: str, symbol: str, now: datetime | None = None) -> Phase:
    """``symbol``'s phase at ``now`` under the calendar ``hours`` (one of :data:`HOURS`):
    a held phase applies to stocks; crypto and FX keep their own hours."""
    if hours in _HELD and not is_crypto_or_fx(symbol):
        return _HELD[hours]
    return symbol_phase(symbol, now)


def day_window(symbol: str, ts: float) -> tuple[int, int]:
    """(start, end) epoch s of ``symbol``'s trading day in progress at ``ts``, else its
    last one: a stock's extended session (04:00 to 20:00 New York; a Saturday gives
    Friday's), the UTC day for crypto and FX. Its volume is "the day's volume"."""
    if is_crypto_or_fx(symbol):
        start = int(ts) - int(ts) % 86400
        return start, start + 86400
    day = datetime.fromtimestamp(ts, UTC).astimezone(NEW_YORK).date()
    for _ in range(_MAX_SEARCH_DAYS):
        bounds = extended_session(day)
        if bounds is not None and bounds[0].timestamp() <= ts:
            return int(bounds[0].timestamp()), int(bounds[3].timestamp())
        day -= timedelta(days=1)
    raise RuntimeError(f"no NYSE session within {_MAX_SEARCH_DAYS} days of {ts}")


def last_sessions(symbol: str, ts: float, n: int) -> list[tuple[int, int]]:
    """The ``n`` trading days (:func:`day_window`) up to the one at ``ts``, oldest first."""
    days: list[tuple[int, int]] = []
    at = ts
    while len(days) < n:
        start, end = day_window(symbol, at)
        days.append((start, end))
        at = start - 1
    return days[::-1]

"""What the chart draws, as plain data: the candles of a range, the window each range
button shows, the extended hours to shade. Pure functions, no Panel or Bokeh, so each
rule has a unit test; :mod:`app.views.chart` puts them on screen.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from app.history.bars import INTERVALS, Bar
from app.market_hours import extended_session, is_crypto_or_fx

UP, DOWN = "#26a269", "#c01c28"


@dataclass(frozen=True, slots=True)
class Range:
    """A range button: how much time it shows and how long each candle is."""

    interval: str
    """Bar interval (a key of :data:`app.history.bars.INTERVALS`)."""
    span_s: int = 0
    """Seconds shown, ending at the newest bar; 0: whole trading days (``days``)."""
    days: int = 0
    """Trading days shown (the last on record and the ones before it)."""

    @property
    def seconds(self) -> int:
        """Length of one candle."""
        return INTERVALS[self.interval]


#: The range buttons. Each shows a different stretch of time, so no two show the same
#: picture when there is more data than the shortest holds.
RANGES: dict[str, Range] = {
    "15 min": Range("1m", span_s=15 * 60),
    "1 h": Range("1m", span_s=60 * 60),
    "1 day": Range("5m", days=1),
    "5 days": Range("15m", days=5),
}


def bucket(ts: float, seconds: int) -> int:
    """Start of the candle of ``seconds`` holding ``ts``."""
    return int(ts // seconds) * seconds


def candle_columns(bars: list[Bar], seconds: int = 60,
                   xs: tuple[int, ...] | None = None) -> dict[str, list]:
    """Columns of the candle source: centre (ms; at ``xs``, the bars' positions on a
    closed-up :class:`Axis`, else their time), start (ms, what the tooltip says),
    OHLCV, body and colour."""
    half = seconds * 500
    at = xs if xs is not None else [b.t for b in bars]
    return {
        "time": [x * 1000 + half for x in at], "start": [b.t * 1000 for b in bars],
        "o": [b.o for b in bars], "h": [b.h for b in bars], "l": [b.l for b in bars],
        "c": [b.c for b in bars], "v": [b.v for b in bars],
        "top": [max(b.o, b.c) for b in bars], "bottom": [min(b.o, b.c) for b in bars],
        "color": [UP if b.c >= b.o else DOWN for b in bars],
    }


def x_window(spec: Range, bars: list[Bar], now: float) -> tuple[float, float]:
    """(start, end) in ms of what a range shows: a fixed span ending at the newest
    candle's end (or now), or the trading days of its candles end to end."""
    step = spec.seconds
    end = (bars[-1].t + step) if bars else bucket(now, step) + step
    if spec.span_s:
        return (end - spec.span_s) * 1000.0, end * 1000.0
    start = bars[0].t if bars else end - 3600
    return start * 1000.0, end * 1000.0


def extended_hours(symbol: str, start_ms: float, end_ms: float) -> list[tuple[float, float]]:
    """(left, right) ms of the pre-market and after-hours stretches between ``start_ms``
    and ``end_ms``, for shading; none for crypto and FX (no extended hours)."""
    if is_crypto_or_fx(symbol) or end_ms <= start_ms:
        return []
    day = datetime.fromtimestamp(start_ms / 1000, UTC).date() - timedelta(days=1)
    last = datetime.fromtimestamp(end_ms / 1000, UTC).date() + timedelta(days=1)
    out: list[tuple[float, float]] = []
    while day <= last:
        if (hours := extended_session(day)) is not None:
            pre, open_, close, post = (t.timestamp() * 1000 for t in hours)
            out += [(left, right) for left, right in ((pre, open_), (close, post))
                    if right > start_ms and left < end_ms]
        day += timedelta(days=1)
    return out


# -- several days, end to end ---------------------------------------------------------
#: On a view of several days, a stretch with no trade longer than this (a night, a
#: weekend) is closed up to :data:`GAP_CANDLES` candles: the days sit side by side.
MAX_QUIET_S = 2 * 3600
GAP_CANDLES = 2


@dataclass(frozen=True, slots=True)
class Axis:
    """Where each bar start (real time, s) sits on a view with its quiet stretches
    closed up, and back: x positions are seconds too, equal to real time at the first
    bar."""

    starts: tuple[int, ...]
    xs: tuple[int, ...]
    seconds: int

    @classmethod
    def of(cls, starts: list[int], seconds: int) -> Axis:
        xs: list[int] = []
        for i, t in enumerate(starts):
            gap = t - starts[i - 1] if i else 0
            xs.append(xs[-1] + (gap if gap <= MAX_QUIET_S else GAP_CANDLES * seconds)
                      if i else t)
        return cls(tuple(starts), tuple(xs), seconds)

    def x(self, t: float) -> float:
        """Position of real time ``t``: inside a closed-up stretch, at most at its end."""
        if not self.starts or t <= self.starts[0]:
            return float(t)
        i = bisect.bisect_right(self.starts, t) - 1
        after = t - self.starts[i]
        if i + 1 < len(self.starts) and self.starts[i + 1] - self.starts[i] > MAX_QUIET_S:
            after = min(after, self.xs[i + 1] - self.xs[i])
        return float(self.xs[i] + after)

    def next_x(self, t: int) -> int:
        """Position of a new bar starting at ``t`` (after the last one)."""
        if not self.starts:
            return t
        gap = t - self.starts[-1]
        return self.xs[-1] + (gap if gap <= MAX_QUIET_S else GAP_CANDLES * self.seconds)

    def day_ticks(self, label) -> dict[float, str]:
        """{x ms: label(start)} at the first bar of each stretch after a closed-up one
        (a new day), and at the first bar."""
        ticks: dict[float, str] = {}
        for i, (t, x) in enumerate(zip(self.starts, self.xs, strict=True)):
            if i == 0 or t - self.starts[i - 1] > MAX_QUIET_S:
                ticks[x * 1000.0] = label(t)
        return ticks


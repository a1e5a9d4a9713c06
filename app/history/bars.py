"""One-minute OHLCV bars: folding trades into them, and coarser intervals from them.

Pure functions, no I/O. A bar's ``t`` is its start in Unix seconds, aligned to the
minute in UTC, and comes from the *trade* time, never the time a tick arrived.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass

from app.ticks import Tick

#: Intervals ``/history`` answers, in seconds. ``1d`` bars are UTC days.
INTERVALS: dict[str, int] = {"1m": 60, "5m": 300, "15m": 900, "1h": 3600, "1d": 86400}

FIELDS = ("t", "o", "h", "l", "c", "v")


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar: start (epoch s), open, high, low, close, volume."""

    t: int
    o: float
    h: float
    l: float  # noqa: E741 - the name every OHLC format uses
    c: float
    v: float

    def as_dict(self) -> dict[str, float | int]:
        return {"t": self.t, "o": self.o, "h": self.h, "l": self.l, "c": self.c, "v": self.v}


def minute(ts: float) -> int:
    """The start of the UTC minute holding ``ts``."""
    return int(ts // 60) * 60


def merge(a: Bar, b: Bar) -> Bar:
    """``a`` followed by ``b`` (same bar start): ``a``'s open, ``b``'s close."""
    return Bar(a.t, a.o, max(a.h, b.h), min(a.l, b.l), b.c, a.v + b.v)


def usable(tick: Tick) -> bool:
    return math.isfinite(tick.price) and tick.price > 0 and math.isfinite(tick.ts) \
        and math.isfinite(tick.size) and tick.size >= 0


def fold(ticks: Iterable[Tick],
         into: dict[tuple[str, int], Bar] | None = None) -> dict[tuple[str, int], Bar]:
    """Fold ``ticks`` (in arrival order) into one-minute bars keyed by (symbol, start).

    ``into`` is updated in place and returned, so a batch can be folded in parts.
    """
    bars = {} if into is None else into
    for tick in ticks:
        if not usable(tick):
            continue
        key = (tick.symbol, minute(tick.ts))
        p = tick.price
        old = bars.get(key)
        if old is None:
            bars[key] = Bar(key[1], p, p, p, p, tick.size)
        else:
            bars[key] = Bar(old.t, old.o, max(old.h, p), min(old.l, p), p, old.v + tick.size)
    return bars


def resample(bars: Iterable[Bar], seconds: int) -> list[Bar]:
    """Bars of ``seconds`` each (a multiple of 60) from one-minute bars sorted by ``t``."""
    if seconds == 60:
        return list(bars)
    out: list[Bar] = []
    for b in bars:
        start = b.t - b.t % seconds
        if out and out[-1].t == start:
            out[-1] = merge(out[-1], Bar(start, b.o, b.h, b.l, b.c, b.v))
        else:
            out.append(Bar(start, b.o, b.h, b.l, b.c, b.v))
    return out


def closes(bars: list[Bar], most: int) -> list[tuple[float, float]]:
    """At most ``most`` (time, close) points spread evenly over ``bars``: a sparkline.

    Each point is the close of the last bar of its slice, stamped at that bar's end.
    """
    if not bars or most < 1:
        return []
    n = len(bars)
    if n <= most:
        return [(b.t + 60.0, b.c) for b in bars]
    idx = sorted({math.ceil((k + 1) * n / most) - 1 for k in range(most)})
    return [(bars[i].t + 60.0, bars[i].c) for i in idx]


def to_csv(bars: Iterable[Bar]) -> str:
    """``t,o,h,l,c,v`` with a header line."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(FIELDS)
    for b in bars:
        w.writerow((b.t, b.o, b.h, b.l, b.c, b.v))
    return out.getvalue()

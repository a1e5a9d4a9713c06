"""Quote maths: folding ticks into a quote, change vs previous close, flash direction.

All pure functions on immutable values, so the hub stays a thin locking shell
around them and each rule has its own unit test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from app.ticks import Reference, Tick


@dataclass(frozen=True, slots=True)
class Quote:
    """The latest state of one symbol, as the board shows it."""

    symbol: str
    last: float | None = None
    prev_close: float | None = None
    high: float | None = None
    low: float | None = None
    volume: float = 0.0
    """The day's volume: ``day_base`` (before this process watched) plus live trades."""
    traded: float = 0.0
    """Volume of the live trades folded into this quote (only grows: the chart's
    current candle takes its volume from the difference)."""
    day_base: float = 0.0
    """Volume of the day before the live trades: from the provider or the bar store."""
    ts: float | None = None
    """Exchange time of the trade that set ``last`` (Unix seconds)."""
    direction: int = 0
    """+1 / -1 / 0: how ``last`` moved at its last publication (drives the flash)."""
    cycle: int = 0
    """Hub cycle in which this quote was published."""
    note: str = ""
    """Why the symbol is not streaming (e.g. over the feed's symbol limit); "" when it is."""
    session: str = ""
    """The market's phase in words when not its regular session ("pre-market", "after
    hours", "market closed"); "" during it."""

    @property
    def change(self) -> float | None:
        return change(self.last, self.prev_close)

    @property
    def change_pct(self) -> float | None:
        return change_pct(self.last, self.prev_close)


def apply_reference(q: Quote, ref: Reference | None) -> Quote:
    """Take previous close (and day range) from a reference snapshot.

    Before the first trade the reference's last price stands in for ``last``;
    after it, live trades win.
    """
    if ref is None:
        return q
    highs = [x for x in (q.high, ref.high) if x is not None]
    lows = [x for x in (q.low, ref.low) if x is not None]
    if ref.volume is not None:
        q = apply_day_volume(q, ref.volume)
    return replace(
        q,
        prev_close=ref.prev_close,
        last=q.last if q.ts is not None else (ref.last if ref.last is not None else q.last),
        high=max(highs) if highs else None,
        low=min(lows) if lows else None,
    )


def apply_day_volume(q: Quote, base: float) -> Quote:
    """Count ``base`` (the day's volume before the live trades, from the provider or the
    store) in the day's volume. Two sources count the same trades: the larger wins."""
    if not (math.isfinite(base) and base > q.day_base):
        return q
    return replace(q, day_base=base, volume=q.volume + base - q.day_base)


def new_day(q: Quote) -> Quote:
    """The quote as a new trading day starts: its volume counts from zero again."""
    return replace(q, volume=0.0, day_base=0.0)


def fold(q: Quote, tick: Tick) -> Quote:
    """Fold one trade into a quote: latest price wins, volume and range accumulate.

    A trade older than the quote's last one still counts for volume and range but
    never moves ``last`` backwards in time.
    """
    if not (math.isfinite(tick.price) and tick.price > 0):
        return q
    high = tick.price if q.high is None else max(q.high, tick.price)
    low = tick.price if q.low is None else min(q.low, tick.price)
    size = max(tick.size, 0.0)
    volume, traded = q.volume + size, q.traded + size
    if q.ts is not None and tick.ts < q.ts:
        return replace(q, high=high, low=low, volume=volume, traded=traded)
    return replace(q, last=tick.price, ts=tick.ts, high=high, low=low, volume=volume,
                   traded=traded)


def change(last: float | None, prev_close: float | None) -> float | None:
    """Absolute change vs previous close, or None when either is unknown."""
    if last is None or prev_close is None:
        return None
    return last - prev_close


def change_pct(last: float | None, prev_close: float | None) -> float | None:
    """Percent change vs previous close, or None when unknown or undefined."""
    if last is None or not prev_close:
        return None
    return (last - prev_close) / prev_close * 100.0


def flash_direction(before: float | None, after: float | None) -> int:
    """+1 when the price went up, -1 when down, 0 when unchanged or unknown."""
    if before is None or after is None or after == before:
        return 0
    return 1 if after > before else -1


def format_price(price: float | None) -> str:
    """``$152.43``; more decimals for sub-dollar prices; ``—`` when unknown."""
    if price is None:
        return "—"
    decimals = 4 if abs(price) < 1 else 2
    return f"${price:,.{decimals}f}"


def format_change(chg: float | None, pct: float | None) -> str:
    """``+1.23 (+0.82%)``; ``—`` when unknown."""
    if chg is None or pct is None:
        return "—"
    return f"{chg:+,.2f} ({pct:+.2f}%)"


def format_volume(volume: float) -> str:
    """Compact volume: ``950``, ``12.3K``, ``4.56M``, ``1.2B``."""
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(volume) >= size:
            return f"{volume / size:.3g}{suffix}"
    return f"{volume:.0f}" if volume == int(volume) else f"{volume:.4g}"


def trend(q: Quote) -> int:
    """Sign of the change vs previous close: colours the change column."""
    chg = q.change
    return 0 if not chg else (1 if chg > 0 else -1)


def quote_row(q: Quote) -> dict:
    """A quote as the board's browser code renders it: formatted once, JSON-ready. The
    phase of the day (``session``) goes only when there is one: a regular session's
    rows, sent every cycle, carry no empty field."""
    row = {
        "symbol": q.symbol,
        "last": q.last,
        "price": format_price(q.last),
        "change": format_change(q.change, q.change_pct),
        "trend": trend(q),
        "volume": format_volume(q.volume),
        "high": format_price(q.high),
        "low": format_price(q.low),
        "ts": q.ts,
        "note": q.note,
    }
    if q.session:
        row["session"] = q.session
    return row

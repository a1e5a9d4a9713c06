"""Folding trades into one-minute bars, and coarser intervals from them (pure)."""

from __future__ import annotations

import math

from app.history.bars import Bar, closes, fold, merge, minute, resample, to_csv
from app.ticks import Tick

T0 = 1_764_000_000  # a minute boundary (divisible by 60)


def test_minute_aligns_to_utc_minutes():
    assert T0 % 60 == 0
    assert minute(T0) == T0
    assert minute(T0 + 59.999) == T0
    assert minute(T0 + 60) == T0 + 60


def test_fold_makes_ohlcv_by_trade_time():
    ticks = [Tick("AAPL", 10.0, 5, T0 + 1), Tick("AAPL", 12.0, 1, T0 + 20),
             Tick("AAPL", 9.0, 2, T0 + 30), Tick("AAPL", 11.0, 3, T0 + 59.5),
             Tick("AAPL", 13.0, 4, T0 + 60), Tick("TSLA", 200.0, 1, T0 + 5)]
    bars = fold(ticks)
    assert bars[("AAPL", T0)] == Bar(T0, 10.0, 12.0, 9.0, 11.0, 11.0)
    assert bars[("AAPL", T0 + 60)] == Bar(T0 + 60, 13.0, 13.0, 13.0, 13.0, 4.0)
    assert bars[("TSLA", T0)] == Bar(T0, 200.0, 200.0, 200.0, 200.0, 1.0)
    assert len(bars) == 3


def test_fold_in_parts_equals_fold_at_once_and_merge_agrees():
    ticks = [Tick("X", 1.0 + (i % 7) / 10, i % 3, T0 + i * 7.3) for i in range(50)]
    whole = fold(ticks)
    parts = fold(ticks[20:], fold(ticks[:20]))
    assert parts == whole
    # Merging separately folded halves (what the store does per batch) gives the same.
    a, b = fold(ticks[:20]), fold(ticks[20:])
    merged = dict(a)
    for k, bar in b.items():
        merged[k] = merge(merged[k], bar) if k in merged else bar
    assert merged == whole


def test_fold_ignores_unusable_ticks():
    bad = [Tick("X", math.nan, 1, T0), Tick("X", -1.0, 1, T0), Tick("X", 1.0, 1, math.inf),
           Tick("X", 1.0, -5, T0)]
    assert fold(bad) == {}


def test_resample_to_five_minutes_and_days():
    one = [Bar(T0 + 60 * i, 10 + i, 11 + i, 9 + i, 10.5 + i, 1.0) for i in range(10)]
    five = resample(one, 300)
    start = T0 - T0 % 300
    assert [b.t for b in five] == sorted({b.t - b.t % 300 for b in one})
    first = [b for b in one if b.t - b.t % 300 == start]
    assert five[0] == Bar(start, first[0].o, max(b.h for b in first), min(b.l for b in first),
                          first[-1].c, float(len(first)))
    day = resample(one, 86400)
    assert len(day) == 1 and day[0].v == 10.0 and day[0].c == one[-1].c


def test_closes_spread_over_the_day_and_keep_the_last():
    bars = [Bar(T0 + 60 * i, 1, 1, 1, float(i), 1) for i in range(390)]
    pts = closes(bars, 100)
    assert len(pts) == 100
    assert pts[-1] == (T0 + 60 * 389 + 60.0, 389.0)
    assert [t for t, _ in pts] == sorted(t for t, _ in pts)
    assert closes(bars[:5], 100) == [(b.t + 60.0, b.c) for b in bars[:5]]


def test_csv_has_a_header_and_one_line_per_bar():
    text = to_csv([Bar(T0, 1.5, 2.0, 1.0, 1.75, 300.0)])
    assert text.splitlines() == ["t,o,h,l,c,v", f"{T0},1.5,2.0,1.0,1.75,300.0"]

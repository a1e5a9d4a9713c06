"""Quote maths in app.quotes: folding ticks, change vs previous close, flash, formatting."""

import math

import pytest

from app.quotes import (
    Quote,
    apply_reference,
    change,
    change_pct,
    flash_direction,
    fold,
    format_change,
    format_price,
    format_volume,
    quote_row,
)
from app.ticks import Reference, Tick


def test_fold_takes_latest_price_and_accumulates_volume_and_range():
    q = Quote("AAPL", prev_close=100.0)
    for price, size, ts in [(101.0, 10, 1.0), (99.5, 5, 2.0), (100.25, 1, 3.0)]:
        q = fold(q, Tick("AAPL", price, size, ts))
    assert (q.last, q.volume, q.high, q.low, q.ts) == (100.25, 16, 101.0, 99.5, 3.0)


def test_fold_never_moves_last_backwards_in_time():
    q = fold(Quote("AAPL"), Tick("AAPL", 100.0, 1, 10.0))
    q = fold(q, Tick("AAPL", 90.0, 2, 9.0))  # late trade
    assert q.last == 100.0 and q.ts == 10.0
    assert q.low == 90.0 and q.volume == 3


@pytest.mark.parametrize("bad", [0.0, -1.0, math.nan, math.inf])
def test_fold_ignores_impossible_prices(bad):
    q = fold(Quote("AAPL"), Tick("AAPL", 100.0, 1, 1.0))
    assert fold(q, Tick("AAPL", bad, 1, 2.0)) == q


def test_change_and_percent_against_previous_close():
    assert change(152.43, 150.0) == pytest.approx(2.43)
    assert change_pct(152.43, 150.0) == pytest.approx(1.62)
    assert change_pct(99.0, 100.0) == pytest.approx(-1.0)
    assert change(None, 100.0) is None
    assert change_pct(100.0, None) is None
    assert change_pct(100.0, 0.0) is None  # undefined, not a division error


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [(100.0, 100.01, 1), (100.0, 99.99, -1), (100.0, 100.0, 0), (None, 100.0, 0), (1.0, None, 0)],
)
def test_flash_direction(before, after, expected):
    assert flash_direction(before, after) == expected


def test_formatting():
    assert format_price(152.43) == "$152.43"
    assert format_price(67250.0) == "$67,250.00"
    assert format_price(0.5123) == "$0.5123"
    assert format_price(None) == "—"
    assert format_change(1.234, 0.8157) == "+1.23 (+0.82%)"
    assert format_change(-4.65, -1.81) == "-4.65 (-1.81%)"
    assert format_change(None, None) == "—"
    assert format_volume(950) == "950"
    assert format_volume(12_345) == "12.3K"
    assert format_volume(4_560_000) == "4.56M"
    assert format_volume(1_200_000_000) == "1.2B"


def test_apply_reference_before_and_after_first_trade():
    ref = Reference("AAPL", prev_close=100.0, high=105.0, low=98.0, last=101.0)
    fresh = apply_reference(Quote("AAPL"), ref)
    assert (fresh.last, fresh.prev_close, fresh.high, fresh.low) == (101.0, 100.0, 105.0, 98.0)
    traded = fold(Quote("AAPL"), Tick("AAPL", 110.0, 1, 1.0))
    merged = apply_reference(traded, ref)
    assert (merged.last, merged.prev_close, merged.high, merged.low) == (110.0, 100.0, 110.0, 98.0)
    assert apply_reference(traded, None) == traded


def test_quote_row_is_formatted_for_the_browser():
    row = quote_row(Quote("TSLA", last=245.5, prev_close=250.0, volume=2500, ts=1.5))
    assert row["price"] == "$245.50"
    assert row["change"] == "-4.50 (-1.80%)"
    assert row["trend"] == -1
    assert row["volume"] == "2.5K"
    assert row["last"] == 245.5 and row["symbol"] == "TSLA"

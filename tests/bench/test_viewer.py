"""The bench's viewer-side arithmetic: percentiles, gaps, updates promised, verdicts."""

from __future__ import annotations

import pytest

from bench.common import GapMeter, gap_stats, pct
from bench.reports.viewer import (
    holds_cadence,
    promised_interval,
    promised_updates,
    received_ok,
    smooth,
    viewer_figures,
)


def test_pct_is_nearest_rank():
    values = list(range(1, 101))
    assert pct(values, 0.95) == 95
    assert pct(values, 0.99) == 99
    assert pct(values, 0.07) == 7  # 0.07 * 100 is 7.000000000000001 in floats
    assert pct(values, 1.0) == 100
    assert pct(values, 0.0) == 1
    assert pct([2.5, 1.0], 0.5) == 1.0
    assert pct([3.0, 1.0, 2.0], 0.5) == 2.0
    assert pct([], 0.5) is None


def test_gap_stats_over_sessions():
    gaps = [1.0] * 18 + [1.4, 3.2]
    assert gap_stats(gaps) == {"gap_p50": 1.0, "gap_p95": 1.4, "gap_max": 3.2}
    assert gap_stats([]) == {"gap_p50": None, "gap_p95": None, "gap_max": None}


def meter(receipts, w0=10.0, w1=20.0) -> float:
    m = GapMeter()
    for t in receipts:
        m.update(t, w0, w1)
    return m.close(w0, w1)


def test_gap_between_updates_inside_the_window():
    assert meter([9.5, 10.4, 11.4, 12.4, 15.9, 16.9, 17.9, 18.9, 19.9]) == pytest.approx(3.5)


def test_gap_across_the_window_start_counts_from_the_update_before_it():
    # frozen from 8.0 until 12.5: the viewer waited 4.5 s, 2.5 of them in the window
    assert meter([7.0, 8.0, 12.5, 13.5, 14.5, 15.5, 16.5, 17.5, 18.5, 19.5]) == pytest.approx(4.5)


def test_board_frozen_at_the_end_of_the_window_counts():
    assert meter([9.9, 10.5, 11.5, 12.0]) == pytest.approx(8.0)


def test_no_update_at_all_is_a_gap_of_the_whole_window():
    assert meter([]) == pytest.approx(10.0)
    assert meter([8.0]) == pytest.approx(12.0)


def test_receipts_after_the_window_are_ignored():
    # the drain after w1 must not close the gap that was open at w1
    assert meter([9.9, 10.9, 11.9, 12.9, 13.9, 14.9, 15.9, 16.9, 17.0, 20.5]) == pytest.approx(3.0)


def test_updates_promised():
    assert promised_updates(8.0, 1000) == pytest.approx(8.0)
    assert promised_updates(30.0, 250) == pytest.approx(120.0)
    assert promised_updates(10.0, 400.0) == pytest.approx(25.0)


def test_promised_interval_from_health_readings():
    assert promised_interval([250.0, 375.0, 562.5, 1000.0], 100) == (546.875, 1000.0, True)
    assert promised_interval([400.0, 400.0], 100) == (400.0, 400.0, True)
    # a reading that timed out (None) is left out, not taken as the nominal interval
    assert promised_interval([None, 500.0, None], 250) == (500.0, 500.0, True)
    assert promised_interval([None, None], 250) == (250, 250, False)
    assert promised_interval([], 250) == (250, 250, False)


def sessions(*pairs):
    return [{"i": i, "updates": c, "max_gap": g} for i, (c, g) in enumerate(pairs)]


def cell(n, **figures):
    return {"cell": {"n": n}, "connected": n, **figures}


def test_viewer_figures_count_every_session_against_the_reported_cadence():
    got = viewer_figures(sessions((20, 0.55), (20, 0.6), (10, 2.0), (0, 10.0)), 10.0,
                         [500.0, 500.0], 250)
    assert got["promised_interval_ms"] == 500.0
    assert got["promised_per_session"] == pytest.approx(20.0)
    assert got["received_per_session"] == pytest.approx(12.5)
    assert got["received_min"] == 0
    assert got["received_ratio"] == pytest.approx(12.5 / 20)
    assert (got["gap_p50"], got["gap_max"]) == (0.6, 10.0)


def test_smooth_needs_the_promised_updates_and_short_gaps():
    fine = viewer_figures(sessions(*[(8, 1.05)] * 20), 8.0, [1000.0] * 9, 1000)
    assert smooth(fine) is True
    # a window catches one cycle more or less: 7 of 8 is still every update
    assert received_ok({**fine, "received_per_session": 7.0})
    assert not received_ok({**fine, "received_per_session": 6.9})
    stalled = viewer_figures(sessions(*[(8, 2.1)] * 20), 8.0, [1000.0] * 9, 1000)
    assert smooth(stalled) is False
    edge = viewer_figures(sessions(*[(8, 1.5)] * 20), 8.0, [1000.0] * 9, 1000)
    assert smooth(edge) is True
    # judged against the slower of the two readings: the cadence stretched to 1000 ms
    stretched = viewer_figures(sessions(*[(11, 1.4)] * 20), 8.0,
                                [500.0, 750.0, 1000.0, 1000.0], 250)
    assert smooth(stretched) is True
    assert smooth({"ratio": 1.0}) is None  # a results.json from before these figures


def test_cadence_held_under_overload_allows_no_gap_over_three_intervals():
    ok = cell(2000, **viewer_figures(sessions(*[(10, 1.2)] * 19, (10, 2.9)), 10.0,
                                     [1000.0] * 11, 250))
    assert holds_cadence(ok)
    one_long = cell(2000, **viewer_figures(sessions(*[(10, 1.2)] * 19, (10, 3.1)), 10.0,
                                           [1000.0] * 11, 250))
    assert not holds_cadence(one_long)
    few = cell(2000, **viewer_figures(sessions(*[(8, 1.2)] * 20), 10.0, [1000.0] * 11, 250))
    assert not holds_cadence(few)
    assert not holds_cadence({**ok, "connected": 1999})


def test_cadence_column_shows_the_range_read_or_the_nominal_interval():
    from bench.reports.tables import cadence_of

    moved = {"interval_reported": True, "push_interval_min_ms": 250.0,
             "slowest_interval_ms": 759.4, "promised_interval_ms": 400.0}
    assert cadence_of(moved) == "250-759"
    assert cadence_of({**moved, "push_interval_min_ms": 759.0}) == "759"
    assert cadence_of({**moved, "interval_reported": False, "promised_interval_ms": 250}) == "~250"

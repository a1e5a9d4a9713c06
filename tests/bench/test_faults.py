"""bench.drills.faults' arithmetic: which prices shown were wrong, and what a fault cost viewers."""

from __future__ import annotations

import math

from bench.drills.faults import fault_figures, judge

TRADES = {("AAPL", 10.0): {190.5}, ("AAPL", 11.0): {190.75}}


def test_a_price_is_right_only_if_that_trade_was_published():
    shown = [["AAPL", 10.0, 190.5, 3],        # the trade published at 10.0
             ["AAPL", 11.0, 190.5, 1],        # a price of another time
             ["AAPL", 12.0, -5.0, 2],         # not positive
             ["AAPL", 12.5, math.nan, 1],     # not finite
             ["AAPL", 978307200, 101.5, 1],   # a garbage message's price
             ["AAPL", 13.0, 191.0, 4]]        # no trade recorded then: unverified
    wrong, unverified = judge(shown, TRADES, bad_prices={101.5})
    assert [w[1] for w in wrong] == [11.0, 12.0, 12.5, 978307200]
    assert unverified == [("AAPL", 13.0, 191.0, 4)]


def test_gaps_and_time_back_per_viewer_across_a_fault():
    fault, end = 100.0, 104.5
    viewers = [
        # updates every second, 4 s without across the fault, then fresh prices again
        {"updates": [(98.0, 97.9), (99.0, 98.9), (103.0, 102.8), (104.0, 103.9)]},
        # untouched: a trade made after the fault at 100.5
        {"updates": [(99.5, 99.4), (100.5, 100.2), (101.5, 101.4), (102.5, 102.4),
                     (103.5, 103.4), (104.2, 104.1)]},
        # one more update, of a trade from before the fault, then frozen to the end
        {"updates": [(99.0, 98.0), (100.2, 99.0)]},
        # one fresh price, then frozen: not back
        {"updates": [(99.9, 99.8), (100.5, 100.4)]},
    ]
    got = fault_figures(viewers, fault, end)
    assert math.isclose(got["gap_max"], 4.3)  # the frozen one: 100.2 to the end
    assert got["gap_p50"] == 4.0
    assert (got["back_p50"], got["back_max"]) == (0.5, 3.0)
    assert got["never"] == 2

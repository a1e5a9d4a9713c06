"""The arithmetic behind bench.drills.churn's verdict (the bench itself prints figures)."""

from __future__ import annotations

import argparse

from bench.drills.churn import added, delta, exact_p99_ms, verdict

ARGS = argparse.Namespace(warmup_s=60.0, sample_s=30.0, push_ms=1000)


def rows(rss: list[float], gc2_long_ms: list[list[int]] | None = None) -> list[dict]:
    """One sample every 30 s from t=30, 60 sessions churned per sample, a pause
    histogram with one pause per sample under 10 ms unless ``gc2_long_ms`` says more."""
    out = []
    for j, mb in enumerate(rss):
        longs = (gc2_long_ms or [[]] * len(rss))[j]
        n = 1 + len(longs)
        out.append({"t": 30.0 * (j + 1), "rss_mb": mb, "closed": 60 * (j + 1),
                    "sessions": 300, "gaps": [1.0, 1.1], "loadavg": 2.0,
                    "gc2_long_ms": longs,
                    "gc2": {"count": n, "le=0.01": 1, "le=2.5": n, "le=+Inf": n}})
    return out


def test_histogram_deltas_add_up_over_a_span():
    a = {"count": 2.0, "le=0.1": 1.0}
    b = {"count": 5.0, "le=0.1": 3.0}
    assert delta(a, b) == {"count": 3.0, "le=0.1": 2.0}
    assert added([delta(a, b), {"count": 1.0}]) == {"count": 4.0, "le=0.1": 2.0}


def test_exact_p99_comes_from_the_logged_long_pauses_when_it_is_one_of_them():
    assert exact_p99_ms(10, [60, 900]) == 900  # 10 pauses: the p99 is the longest
    assert exact_p99_ms(200, [60, 70, 900]) == 60  # the 198th: 2 pauses rank above it
    assert exact_p99_ms(200, [70, 900]) is None  # the 198th is unlogged (< 50 ms)
    assert exact_p99_ms(0, []) is None


def test_flat_rss_after_warm_up_passes_and_growth_with_churn_does_not():
    flat = verdict(rows([300.0, 250.0, 251.0, 250.0, 251.0, 250.0]), ARGS)
    assert abs(flat["rss_mb_per_1000_churned"]) < 1.0
    assert any("flat (" in line for line in flat["lines"])
    growing = verdict(rows([250.0 + 10 * j for j in range(6)]), ARGS)
    # 10 MB per 60 sessions churned: 166.7 MB per 1000
    assert round(growing["rss_mb_per_1000_churned"], 1) == 166.7
    assert round(growing["rss_slope_mb_per_10min"], 1) == 200.0
    assert any("NOT flat" in line for line in growing["lines"])


def test_a_long_full_collection_misses_the_pause_target():
    ok = verdict(rows([250.0] * 4), ARGS)
    assert ok["gc2_pauses"] == 3 and ok["gc2_p99_ms"] is None
    assert any("MET" in line for line in ok["lines"])
    slow = verdict(rows([250.0] * 4, [[], [], [900], []]), ARGS)
    assert slow["gc2_p99_ms"] == 900 and slow["gc2_max_ms"] == 900
    assert any("MISSED" in line for line in slow["lines"])

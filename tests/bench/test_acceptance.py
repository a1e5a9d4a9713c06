"""The arithmetic behind bench.scenarios.acceptance' verdicts (the bench itself prints figures)."""

from __future__ import annotations

from bench.scenarios.acceptance import verdicts
from bench.scenarios.gcpause import p99_bound


def test_the_bucket_bound_holding_every_pause_or_a_share_of_them():
    delta = {"count": 3, "sum": 0.2, "le=0.01": 1, "le=0.1": 2, "le=0.25": 3, "le=+Inf": 3}
    assert p99_bound(delta, 1.0) == "<= 250 ms"
    assert p99_bound(delta, 0.5) == "<= 100 ms"
    assert p99_bound({"count": 0}, 1.0) == "-"
    assert p99_bound({"count": 2, "le=0.1": 1, "le=+Inf": 2}, 1.0) == "> 100 ms"


def cell(**over) -> dict:
    base = {"cell": "t2000", "server": "photon", "n": 2000, "ready": 2000,
            "delivered_pct": 99.5, "cadence_ms": (300.0, 400.0, 500.0),
            "gap_s": (0.6, 0.9, 1.4), "tick_dom_ms": (None, None, 0),
            "mb_per_session": 0.25, "gc_p99": "-", "gc_pauses": 0, "gc_max_bucket": "-"}
    return {**base, **over}


def test_the_stretched_cadence_verdict_allows_three_times_the_slowest_reported():
    lines = verdicts(cell())
    assert any(line.startswith("no gap > 3 x cadence (1.5 s): yes") for line in lines)
    lines = verdicts(cell(gap_s=(0.6, 0.9, 1.6)))
    assert any(line.startswith("no gap > 3 x cadence (1.5 s): NO") for line in lines)
    assert any("every session live: NO" in line for line in verdicts(cell(ready=1999)))


def test_rss_and_gap_verdicts_of_the_thousand_session_cell():
    lines = verdicts(cell(cell="t1000", n=1000, ready=1000, gap_s=(1.0, 1.6, 2.0),
                          mb_per_session=0.31))
    assert "gap p95 <= 1.5 s: NO (1.60 s)" in lines
    assert "RSS <= 0.3 MB per session: NO (0.31 MB)" in lines

"""The session-cost benches' arithmetic (bench/sessionstart.py, bench/sessionprofile.py)."""

from __future__ import annotations

from bench.common import opening_ms


def test_opening_cost_takes_out_what_the_live_sessions_took_meanwhile():
    # 30 CPU-seconds over a 60 s window, live sessions alone at 0.25 CPU: 15 s for 100
    assert opening_ms(30.0, 0.25, 60.0, 100) == 150.0
    assert opening_ms(30.0, 0.0, 60.0, 100) == 300.0  # nothing live: all of it
    assert opening_ms(1.0, 0.5, 10.0, 10) == 0.0  # never below nothing
    assert opening_ms(1.0, 0.0, 1.0, 0) == 1000.0  # nothing opened: per one, not a crash

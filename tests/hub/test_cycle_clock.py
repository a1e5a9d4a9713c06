"""The cycle clock (app/hub/cycle_clock.py): cycles run, and a failing one does not stop it."""

import threading

from app.hub.cadence import Cadence, Policy
from app.hub.cycle_clock import CycleClock


def test_cycle_clock_runs_cycles_and_survives_a_failing_one():
    calls = []
    done = threading.Event()

    def on_cycle():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("bad cycle")
        if len(calls) >= 3:
            done.set()

    clock = CycleClock(Cadence(Policy(0.01, 0.01)), on_cycle)
    clock.start()
    try:
        assert done.wait(30)
    finally:
        clock.stop()
    assert not clock.running

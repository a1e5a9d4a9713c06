"""The adaptive cadence (app.hub.cadence): stretch when busy, shorten when idle, stay in bounds."""

import pytest

from app.hub.cadence import Cadence, Policy, step

P = Policy(floor_s=0.1, ceiling_s=1.0, smoothing=1.0)  # no smoothing: each report counts alone


def test_a_busy_cycle_stretches_the_interval():
    interval, load = step(0.1, -1, busy_s=0.08, policy=P)  # 80 % of the interval
    assert interval == pytest.approx(0.15) and load == pytest.approx(0.8)


def test_an_idle_cycle_shortens_it_slowly():
    interval, _ = step(0.5, -1, busy_s=0.01, policy=P)
    assert interval == pytest.approx(0.45)


def test_in_between_it_holds():
    assert step(0.2, -1, busy_s=0.06, policy=P)[0] == 0.2  # 30 %: neither busy nor idle


def test_never_below_the_floor_nor_above_the_ceiling():
    assert step(0.1, -1, busy_s=0.0, policy=P)[0] == 0.1
    assert step(0.9, -1, busy_s=5.0, policy=P)[0] == 1.0


def test_overload_settles_at_a_cadence_the_server_can_deliver():
    """Delivery costs 120 ms whatever the interval: the cadence stretches until that is
    under half of it, then stays: fewer, complete updates instead of a collapse."""
    interval, load = 0.1, -1.0
    policy = Policy(floor_s=0.1, ceiling_s=1.0)
    for _ in range(60):
        interval, load = step(interval, load, busy_s=0.12, policy=policy)
    assert 0.12 / 0.5 <= interval <= 0.12 / 0.2
    for _ in range(200):  # load goes away: back to the floor
        interval, load = step(interval, load, busy_s=0.002, policy=policy)
    assert interval == pytest.approx(0.1)


def test_smoothing_ignores_a_single_spike():
    policy = Policy(floor_s=0.1, ceiling_s=1.0, smoothing=0.3)
    interval, load = step(0.1, 0.1, busy_s=0.09, policy=policy)  # one 90 % cycle after calm
    assert interval == 0.1 and load == pytest.approx(0.34)


def test_policy_bounds_are_checked():
    with pytest.raises(ValueError):
        Policy(floor_s=0.5, ceiling_s=0.1)


def test_cadence_steps_once_per_cycle_on_the_slowest_report():
    cadence = Cadence(P)
    assert cadence.advance() == 0.1  # nothing reported: unchanged
    cadence.report(0.01)
    cadence.report(0.09)  # a second lane, slower, in the same cycle
    assert cadence.advance() == pytest.approx(0.15)
    assert cadence.advance() == pytest.approx(0.15)  # no new report: no new step
    assert cadence.load == pytest.approx(0.9)

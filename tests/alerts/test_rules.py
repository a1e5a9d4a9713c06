"""The shared rule (app/alerts/rules.py): once per crossing, re-armed on the way back,
checked against its definition on many random price paths."""

from __future__ import annotations

import random

import pytest

from app.alerts.rules import Alert, holds, parse_alert, step
from app.views import alerts as page_alerts


def run(alert: Alert, prices: list[float | None], base: float | None = None) -> list[bool]:
    armed, fired = True, []
    for price in prices:
        now, armed = step(alert, armed, price, base)
        fired.append(now)
    return fired


def test_the_page_uses_this_very_implementation():
    assert page_alerts.step is step and page_alerts.parse_alert is parse_alert


def test_fires_once_per_crossing_and_rearms_when_the_price_goes_back():
    above = Alert("AAPL", ">", 230.5)
    assert run(above, [229, 231, 232, 230, 230.5, 231]) == [
        False, True, False, False, True, False]


def test_a_move_is_measured_from_its_base_either_way():
    move = parse_alert("NVDA~2%")
    assert run(move, [101, 102, 103, 100, 97.9], base=100) == [False, True, False, False, True]
    assert run(move, [150, 50]) == [False, False]  # no base: a move cannot hold


@pytest.mark.parametrize("entry", ["AAPL>230.5", "TSLA<200", "NVDA~2%", "NVDA~0.5%"])
def test_random_paths_fire_exactly_at_each_entry_into_the_condition(entry):
    """Property: fired at i <=> the condition holds at i and did not at the last price
    before (or i is the first price); prices that are None change nothing."""
    alert = parse_alert(entry)
    rng = random.Random(entry)
    centre = 100.0 if alert.op == "~" else alert.value
    for _ in range(300):
        prices = [None if rng.random() < 0.1 else round(centre * rng.uniform(0.95, 1.05), 2)
                  for _ in range(rng.randint(1, 30))]
        base = 100.0 if alert.op == "~" else None
        fired = run(alert, prices, base)
        before = False  # a fresh alert is armed: it fires at once if it holds
        for price, got in zip(prices, fired, strict=True):
            if price is None:
                assert not got
                continue
            now = holds(alert, price, base)
            assert got == (now and not before), (prices, fired)
            before = now

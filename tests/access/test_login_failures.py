"""Failed sign-ins are limited per address and per name tried; a right password spends
nothing (app/access/signin.py, app/access/rate.py)."""

from __future__ import annotations

import pytest

from app.access import signin
from app.access.rate import RateLimits


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_wait_tells_without_spending():
    clock = Clock()
    limits = RateLimits(rate=1.0, burst=2, clock=clock)
    assert limits.wait("a") == 0.0 and limits.wait("a") == 0.0  # asking spends nothing
    assert limits.take("a") == 0.0 and limits.take("a") == 0.0
    assert limits.wait("a") == pytest.approx(1.0)
    clock.now += 0.5
    assert limits.wait("a") == pytest.approx(0.5)
    clock.now += 0.5
    assert limits.wait("a") == 0.0


@pytest.fixture
def fresh(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(signin, "_by_client", RateLimits(signin.FAILURES_RATE,
                                                         signin.FAILURES_BURST, clock))
    monkeypatch.setattr(signin, "_by_name", RateLimits(signin.FAILURES_RATE,
                                                       signin.FAILURES_BURST, clock))
    return clock


def test_ten_failures_from_one_address_make_it_wait(fresh):
    for i in range(signin.FAILURES_BURST):
        assert signin.failures_wait("ip:10.0.0.1", f"user{i}") == 0.0
        signin.count_failure("ip:10.0.0.1", f"user{i}")
    assert signin.failures_wait("ip:10.0.0.1", "someone-else") == pytest.approx(6.0)
    assert signin.failures_wait("ip:10.0.0.2", "someone-else") == 0.0  # others go on
    fresh.now += 6.0
    assert signin.failures_wait("ip:10.0.0.1", "someone-else") == 0.0


def test_ten_failures_on_one_name_from_many_addresses_make_that_name_wait(fresh):
    for i in range(signin.FAILURES_BURST):
        signin.count_failure(f"ip:10.0.1.{i}", "Alice")
    assert signin.failures_wait("ip:10.9.9.9", "alice") > 0  # names are case-blind
    assert signin.failures_wait("ip:10.9.9.9", "bob") == 0.0

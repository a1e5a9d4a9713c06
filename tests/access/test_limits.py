"""Places per client and per process, and request rates: the plain data behind the limits."""

from __future__ import annotations

import threading

from app.access.limits import SessionLimits
from app.access.rate import RateLimits, retry_after


def test_a_client_gets_its_places_then_a_429_naming_the_limit():
    limits = SessionLimits(per_client=2, total=10)
    assert limits.admit("ip:a", "s1") is None and limits.admit("ip:a", "s2") is None
    refusal = limits.admit("ip:a", "s3")
    assert refusal.status == 429 and refusal.retry_after_s is None
    assert refusal.message == "2 Photon tabs are open for you; close one to open another."
    assert limits.admit("ip:b", "s4") is None  # another client is not affected
    assert limits.held_by("ip:a") == 2 and len(limits) == 3


def test_releasing_a_place_frees_it_at_once_and_twice_is_harmless():
    limits = SessionLimits(per_client=1, total=10)
    assert limits.admit("ip:a", "s1") is None
    assert limits.admit("ip:a", "s2") is not None
    assert limits.release("s1") is True and limits.release("s1") is False
    assert limits.admit("ip:a", "s2") is None


def test_a_session_holding_a_place_keeps_it():
    limits = SessionLimits(per_client=1, total=1)
    assert limits.admit("ip:a", "s1") is None
    assert limits.admit("ip:a", "s1") is None  # its socket, after its page
    assert limits.admit("ip:other", "s1") is None  # the same tab from a new address
    assert len(limits) == 1


def test_past_the_process_limit_it_is_503_with_retry_after():
    limits = SessionLimits(per_client=5, total=2)
    assert limits.admit("ip:a", "s1") is None and limits.admit("ip:b", "s2") is None
    refusal = limits.admit("ip:c", "s3")
    assert refusal.status == 503 and refusal.retry_after_s == 60
    assert refusal.message == "Photon is full, try again in a minute."


def test_a_reservation_becomes_the_session_or_is_given_back():
    limits = SessionLimits(per_client=2, total=10)
    place, refusal = limits.reserve("ip:a")
    assert refusal is None and limits.held_by("ip:a") == 1
    limits.settle(place, "s1")
    assert limits.holds("s1") and not limits.holds(place)
    other, _ = limits.reserve("ip:a")
    none, refusal = limits.reserve("ip:a")
    assert none is None and refusal.status == 429
    limits.release(other)  # the build failed
    assert limits.held_by("ip:a") == 1


def test_places_are_counted_right_under_threads():
    limits = SessionLimits(per_client=50, total=1000)
    admitted = []

    def grab(n):
        for i in range(100):
            if limits.admit("ip:a", f"{n}-{i}") is None:
                admitted.append(f"{n}-{i}")

    threads = [threading.Thread(target=grab, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(admitted) == 50 == limits.held_by("ip:a")


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_a_token_bucket_allows_a_burst_then_the_rate():
    clock = Clock()
    rate = RateLimits(rate=2.0, burst=3, clock=clock)
    assert [rate.take("ip:a") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = rate.take("ip:a")
    assert wait == 0.5 and retry_after(wait) == 1
    assert rate.take("ip:b") == 0.0  # per client
    clock.now += 0.5
    assert rate.take("ip:a") == 0.0 and rate.take("ip:a") > 0


def test_idle_clients_are_forgotten_past_the_table_size():
    clock = Clock()
    rate = RateLimits(rate=1.0, burst=1, clock=clock, max_clients=10)
    for i in range(10):
        rate.take(f"ip:{i}")
    clock.now += 5
    rate.take("ip:new")
    assert len(rate) == 1
    assert retry_after(0.01) == 1 and retry_after(2.2) == 3

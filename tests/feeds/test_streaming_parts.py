"""The pieces StreamingFeed is made of, without sockets: symbol cap, watchdog, reconnect rule."""

from __future__ import annotations

import threading

from app.feeds.reconnect import after_close
from app.feeds.symbol_cap import SymbolCap
from app.feeds.watchdog import Watchdog, period, stall_reason
from app.feeds.wsconn import Conn
from app.ticks import FeedState
from tests.fakes import wait_until


def test_the_cap_admits_up_to_the_limit_and_promotes_the_longest_waiting():
    cap, streamed = SymbolCap(), set()
    assert cap.admit(streamed, ["A", "B", "A", "C", "D"], limit=2) == (["A", "B"], ["C", "D"])
    assert cap.admit(streamed, ["A", "C"], limit=2) == ([], [])  # nothing new
    streamed.discard("A")
    assert cap.promote(streamed, limit=2) == ["C"] and cap.waiting == ["D"]
    cap.withdraw(["D"])
    assert cap.waiting == [] and streamed == {"B", "C"}
    assert cap.promote(streamed, limit=1) == []  # over a lowered limit: nobody promoted
    assert "2-symbol limit" in SymbolCap.reason(2)


def conn(started=0.0, opened=None, ready=False, last_msg=0.0, closed=False) -> Conn:
    return Conn(ws=None, started=started, opened=opened, ready=ready, last_msg=last_msg,
                closed=closed)


def test_stall_reason_catches_slow_handshakes_and_silent_connections():
    limits = {"connect_timeout_s": 10.0, "stall_timeout_s": 30.0}
    assert stall_reason(None, 100.0, **limits) is None
    assert stall_reason(conn(closed=True), 100.0, **limits) is None
    assert "handshake timed out" in stall_reason(conn(started=0.0), 11.0, **limits)
    assert stall_reason(conn(started=0.0), 9.0, **limits) is None
    up = conn(opened=1.0, ready=True, last_msg=5.0)
    assert stall_reason(up, 30.0, **limits) is None
    assert "stalled" in stall_reason(up, 36.0, **limits)
    assert period(10.0, 30.0) == 1.0 and period(0.1, 0.1) == 0.05


def test_a_watchdog_check_that_raises_does_not_end_the_watchdog():
    calls = []

    def check():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")

    dog = Watchdog(check, lambda: 0.01, name="test-watchdog").start()
    wait_until(lambda: len(calls) >= 3, what="checks after the failure")
    dog.stop()
    assert not any(t.name == "test-watchdog" for t in threading.enumerate())


def test_after_close_backs_off_resets_after_a_stable_run_and_waits_long_after_a_refusal():
    timing = {"stable_after_s": 30.0, "auth_retry_s": 300.0, "backoff_base_s": 1.0,
              "backoff_cap_s": 60.0, "rand": lambda: 1.0}
    first = after_close(conn(), 0, 5.0, **timing)
    assert (first.delay_s, first.failures, first.state) == (1.0, 1, FeedState.DOWN)
    assert first.text == "disconnected: connection closed"
    third = after_close(conn(), 2, 5.0, **timing)
    assert (third.delay_s, third.failures) == (4.0, 3)
    stable = after_close(conn(opened=0.0), 5, 31.0, **timing)
    assert (stable.delay_s, stable.failures) == (1.0, 1)
    refused = conn()
    refused.refused = (FeedState.AUTH_FAILED, "authentication failed")
    retry = after_close(refused, 3, 5.0, **timing)
    assert (retry.delay_s, retry.failures, retry.state) == (300.0, 3, FeedState.AUTH_FAILED)

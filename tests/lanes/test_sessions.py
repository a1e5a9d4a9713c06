"""The lanes' shared parts (app/lanes/sessions.py): the session registry and the hand-over
of hub cycles to the IO loop."""

from __future__ import annotations

import threading

from tornado.ioloop import IOLoop

from app.hub.hub import Hub
from app.lanes.sessions import OnCycle, Sessions
from tests.support import wait_until


def test_sessions_register_replace_and_forget():
    sessions: Sessions[str, int] = Sessions()
    assert sessions.add("a", 1) is None
    assert sessions.add("a", 2) == 1  # a reconnecting session replaces its old entry
    sessions.add("b", 3)
    assert sorted(sessions.values()) == [2, 3] and len(sessions) == 2
    with sessions.locked() as items:  # several steps seen as one
        if items.get("b") == 3:
            del items["b"]
    assert sessions.pop("b") is None and sessions.pop("a") == 2 and len(sessions) == 0


def test_sessions_stay_consistent_under_threads():
    sessions: Sessions[int, int] = Sessions()

    def churn(base: int) -> None:
        for i in range(500):
            sessions.add(base + i, i)
            sessions.values()
            sessions.pop(base + i)

    threads = [threading.Thread(target=churn, args=(k * 1000,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(sessions) == 0


def test_on_cycle_wakes_the_loop_after_each_cycle_until_closed(manual_feed):
    hub = Hub(manual_feed, push_interval_ms=3_600_000)  # cycles by hand
    hub.start()
    loop = IOLoop()
    woken: list[int] = []
    relay = OnCycle(hub, loop, lambda: woken.append(hub.cycle))
    thread = threading.Thread(target=loop.start, daemon=True)
    thread.start()
    try:
        hub.acquire(["AAPL"])
        manual_feed.push("AAPL", 101.0, ts=1.0)
        hub._run_cycle()  # what the cycle clock does: publish, then tell listeners
        wait_until(lambda: woken, what="the loop woken on the cycle")
        assert woken[0] == hub.cycle  # the lane reads the hub on the loop, after publication
        relay.close()
        manual_feed.push("AAPL", 102.0, ts=2.0)
        count = len(woken)
        hub._run_cycle()
        loop.add_callback(lambda: woken.append(-1))  # a marker behind anything queued
        wait_until(lambda: woken[-1] == -1, what="the loop to drain")
        assert len(woken) == count + 1  # closed: no wake for that cycle, only the marker
    finally:
        loop.add_callback(loop.stop)
        thread.join(5)
        hub.stop()

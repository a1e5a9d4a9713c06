"""The fast lane (app.lanes.fastlane): one serialisation per symbol per cycle, shared by
every socket; one message per socket per cycle; no queue behind a slow socket."""

from __future__ import annotations

import json

import pytest

from app.hub.hub import Hub
from app.lanes.fastlane import FastLane, TickSocket


class Future:
    """A write's completion, resolved by the test (tornado resolves it on its loop)."""

    def __init__(self):
        self.done, self.callbacks = False, []

    def add_done_callback(self, fn):
        fn(self) if self.done else self.callbacks.append(fn)

    def set_result(self, _value):
        self.done = True
        for fn in self.callbacks:
            fn(self)

    def exception(self):
        return None


class FakeLoop:
    def add_callback(self, fn, *args):
        fn(*args)


class FakeSocket:
    """Duck-typed TickSocket: its real send_changes, a write_message that records."""

    send_changes = TickSocket.send_changes
    _sent = TickSocket._sent

    def __init__(self, lane: FastLane, token: str):
        self.sub = lane.attach(token, self)
        self.sent_cycle = lane.cycle
        self.busy = False
        self.messages: list[dict] = []
        self.raw: list[str] = []
        self.pending: Future | None = None
        self.hold = False
        self.closed = False

    @property
    def symbols(self):
        return self.sub.symbols

    def write_message(self, text: str) -> Future:
        self.raw.append(text)
        self.messages.append(json.loads(text))
        self.pending = Future()
        if not self.hold:
            self.pending.set_result(None)
        return self.pending

    def close(self):
        self.closed = True


@pytest.fixture
def setup(hand_hub, manual_feed):
    lane = FastLane(hand_hub, FakeLoop())
    yield hand_hub, manual_feed, lane
    lane.close()


def cycle(hub: Hub, lane: FastLane) -> None:
    hub.publish()
    lane.fan_out()


def test_each_socket_gets_one_message_with_only_its_changed_symbols(setup):
    hub, feed, lane = setup
    a_sub, b_sub = hub.subscribe(["AAPL", "TSLA"]), hub.subscribe(["AAPL"])
    a = FakeSocket(lane, lane.register(a_sub))
    b = FakeSocket(lane, lane.register(b_sub))
    cycle(hub, lane)  # reference prices
    a.messages.clear(), b.messages.clear()
    feed.push("AAPL", 101.0, ts=1.0)
    feed.push("AAPL", 102.0, ts=2.0)
    cycle(hub, lane)
    assert [[r["symbol"] for r in m["rows"]] for m in a.messages] == [["AAPL"]]
    assert [[r["symbol"] for r in m["rows"]] for m in b.messages] == [["AAPL"]]
    row = a.messages[0]["rows"][0]
    assert row["price"] == "$102.00" and row["points"] == [[2.0, 102.0]]
    assert a.raw[-1] == b.raw[-1]  # the same serialised fragment for both
    assert a.messages[0]["cycle"] == hub.cycle
    assert a.messages[0]["at"] == pytest.approx(hub.changes_since(0, []).at, abs=1e-6)
    assert a.messages[0]["every"] == hub.push_interval_ms  # the cadence, ms
    cycle(hub, lane)  # nothing changed: nothing sent
    assert len(a.messages) == 1


def test_a_slow_socket_is_skipped_then_gets_the_latest_of_what_it_missed(setup):
    hub, feed, lane = setup
    sub = hub.subscribe(["AAPL", "TSLA"])
    slow = FakeSocket(lane, lane.register(sub))
    cycle(hub, lane)
    slow.hold = True
    feed.push("AAPL", 101.0, ts=1.0)
    cycle(hub, lane)  # sent; the write never completes
    sent = len(slow.messages)
    for i in range(50):  # a burst while it is stuck
        feed.push("AAPL", 110.0 + i, ts=10.0 + i)
        feed.push("TSLA", 200.0 + i, ts=10.0 + i)
        cycle(hub, lane)
    assert len(slow.messages) == sent  # nothing queued behind the stuck write
    slow.hold = False
    slow.pending.set_result(None)
    feed.push("AAPL", 999.0, ts=100.0)
    cycle(hub, lane)
    latest = {r["symbol"]: r["price"] for r in slow.messages[-1]["rows"]}
    assert latest == {"AAPL": "$999.00", "TSLA": "$249.00"}


def test_tokens_are_per_session_and_unregister_closes_the_socket(setup):
    hub, _, lane = setup
    sub = hub.subscribe(["AAPL"])
    token = lane.register(sub)
    assert lane.attach("not-a-token", object()) is None
    sock = FakeSocket(lane, token)
    assert sock.sub is sub and lane.sockets == 1
    lane.unregister(token)
    assert sock.closed and lane.sockets == 0
    assert lane.attach(token, object()) is None


def test_a_day_seeded_late_goes_out_whole_and_flagged(setup):
    hub, feed, lane = setup
    a = FakeSocket(lane, lane.register(hub.subscribe(["AAPL"])))
    feed.push("AAPL", 101.0, ts=3600.0)
    cycle(hub, lane)
    feed.push("AAPL", 102.0, ts=3601.0)
    cycle(hub, lane)
    assert "reset" not in a.messages[-1]["rows"][0]  # live points, appended as usual
    hub.seed_points("AAPL", [(60.0 * m, 100.0) for m in range(30)])  # the day, late
    cycle(hub, lane)
    row = a.messages[-1]["rows"][0]
    assert row["reset"] is True and len(row["points"]) == 32
    assert row["points"][0] == [0.0, 100.0] and row["points"][-1] == [3601.0, 102.0]
    feed.push("AAPL", 103.0, ts=3602.0)
    cycle(hub, lane)
    assert "reset" not in a.messages[-1]["rows"][0]
    assert a.messages[-1]["rows"][0]["points"] == [[3602.0, 103.0]]


def test_the_bokeh_delta_names_the_symbols_to_redraw():
    from app.hub.quote_book import Changes
    from app.views.board import delta_json

    plain = json.loads(delta_json(Changes(3, [], [], {"A": [(1.0, 2.0)]}, 1.5), 100))
    assert "resets" not in plain and plain["points"] == {"A": [[1.0, 2.0]]}
    reset = json.loads(delta_json(Changes(3, [], [], {"A": [(1.0, 2.0)]}, 1.5,
                                          frozenset({"A"})), 100))
    assert reset["resets"] == ["A"]

"""The Bokeh lane (app.lanes.bokehlane): one push per session per hub cycle, right after
it, and never a queue behind a session whose last push has not run yet."""

from __future__ import annotations

import pytest

from app.hub.hub import Hub
from app.lanes.bokehlane import BokehLane
from tests.conftest import ManualFeed


class FakeLoop:
    def add_callback(self, fn, *args):
        fn(*args)


class FakeDoc:
    """Keeps next-tick callbacks until the test runs them, as Bokeh's loop would."""

    def __init__(self):
        self.queued: list = []

    def add_next_tick_callback(self, fn):
        self.queued.append(fn)

    def run(self):
        queued, self.queued = self.queued, []
        for fn in queued:
            fn()


@pytest.fixture
def setup(hand_hub, manual_feed):
    lane = BokehLane(hand_hub, FakeLoop())
    yield hand_hub, manual_feed, lane
    lane.close()


def cycle(hub: Hub, feed: ManualFeed, price: float) -> None:
    """Publish one changed cycle and tell the listeners, as the hub's thread does."""
    feed.push("AAPL", price, ts=price)
    published = hub.publish()
    for listener in list(hub._listeners):
        listener(published)


def test_each_cycle_queues_one_push_per_session_on_its_own_document(setup):
    hub, feed, lane = setup
    sub = hub.subscribe(["AAPL"])
    docs, pushes = [FakeDoc(), FakeDoc()], {0: 0, 1: 0}
    for i, doc in enumerate(docs):
        lane.add(i, doc, lambda i=i: pushes.__setitem__(i, pushes[i] + 1))
    cycle(hub, feed, 101.0)
    assert [len(d.queued) for d in docs] == [1, 1]
    for d in docs:
        d.run()
    assert pushes == {0: 1, 1: 1}
    lane.discard(1)
    cycle(hub, feed, 102.0)
    for d in docs:
        d.run()
    assert pushes == {0: 2, 1: 1} and len(lane) == 1
    sub.close()


def test_a_session_whose_push_has_not_run_is_not_queued_again(setup):
    hub, feed, lane = setup
    sub = hub.subscribe(["AAPL"])
    doc, pushes = FakeDoc(), []
    lane.add(0, doc, lambda: pushes.append(hub.cycle))
    for i in range(20):  # a busy loop: the document's callbacks do not run meanwhile
        cycle(hub, feed, 110.0 + i)
    assert len(doc.queued) == 1 and lane.skipped == 19
    doc.run()  # the one push then takes everything since its last cycle
    assert pushes == [hub.cycle]
    cycle(hub, feed, 200.0)
    assert len(doc.queued) == 1  # queued again once the previous push ran
    sub.close()


def test_close_stops_listening_to_the_hub(setup):
    hub, feed, lane = setup
    sub = hub.subscribe(["AAPL"])
    doc = FakeDoc()
    lane.add(0, doc, lambda: None)
    lane.close()
    cycle(hub, feed, 101.0)
    assert doc.queued == []
    sub.close()

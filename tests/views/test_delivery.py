"""How a dashboard's updates reach its browser (app/views/delivery.py), with fakes."""

from __future__ import annotations

from types import SimpleNamespace

from app.views.delivery import Delivery


class FakeFastLane:
    def __init__(self):
        self.registered: dict[str, object] = {}

    def register(self, subscription, owner=None, session_id=None) -> str:
        token = f"t{len(self.registered) + 1}"
        self.registered[token] = subscription
        return token

    def unregister(self, token: str) -> None:
        del self.registered[token]


def delivery(**kw) -> tuple[Delivery, list[str]]:
    calls: list[str] = []
    d = Delivery(owner=7, hub=SimpleNamespace(push_interval_floor_ms=50),
                 subscription=SimpleNamespace(closed=False),
                 board=SimpleNamespace(fast_url=""), push=lambda: calls.append("push"),
                 show_status=lambda: calls.append("status"),
                 show_health=lambda h: calls.append("health"),
                 send_snapshot=lambda: calls.append("snapshot"), fast_path="./ticks", **kw)
    return d, calls


def test_fast_lane_then_a_fall_back_to_bokeh_on_a_timer_then_stopped():
    lane = FakeFastLane()
    d, calls = delivery(fast_lane=lane)
    d.start(None, served=False)
    assert (d.transport, d.board.fast_url, list(lane.registered)) == ("fast", "./ticks?token=t1",
                                                                      ["t1"])
    status_timer = d.callback
    assert status_timer is not None  # no broadcaster outside a server: a timer of its own
    d.fall_back_to_bokeh()
    assert d.transport == "bokeh" and d.board.fast_url == "" and lane.registered == {}
    assert calls == ["snapshot"]  # the browser gets the whole board through Bokeh
    assert d.callback is not None and d.callback is not status_timer  # pushes on a timer
    assert d.callback.period == 50
    d.stop()
    d.stop()  # safe to repeat
    assert d.callback is None and d.token is None


def test_without_a_fast_lane_a_notebook_pushes_on_a_timer_and_no_fall_back_happens():
    d, calls = delivery()
    d.start(None, served=False)
    assert d.transport == "bokeh" and d.callback.period == 50
    d.fall_back_to_bokeh()  # nothing to fall back from
    assert calls == []
    d.stop()

"""The whole path on loopback: a trade fires a saved alert, the outbox delivers it
once (signed), a restart neither fires nor sends it again, a delivery a dead process
left pending is resumed, and "send a test alert" answers at once."""

from __future__ import annotations

import asyncio

from app.alerts import webhook
from app.alerts.engine import AlertEngine
from app.alerts.outbox import Outbox
from app.alerts.records import Delivery, State
from app.alerts.rules import parse_alerts
from app.alerts.store import AlertStore
from app.ticks import Tick
from tests.alerts.receivers import Receiver


def replay(engine: AlertEngine, outbox: Outbox, prices: list[float]) -> list[dict]:
    async def go():
        results = []
        for p in prices:
            for f in engine.on_tick(Tick("AAPL", p, 1.0, 1_700_000_000.0)):
                results.append(await outbox.deliver(f))
        await outbox.close()
        return results
    return asyncio.run(go())


def test_a_crossing_is_posted_once_signed_and_not_again_after_a_restart(tmp_path):
    path = tmp_path / "alerts.sqlite3"
    with Receiver() as rx:
        store = AlertStore(path)
        secret = store.set_delivery_settings("ann", rx.url, None).webhook_secret
        engine = AlertEngine(store)
        engine.set_board("ann", "tech", parse_alerts("AAPL>230.5").alerts)
        first = replay(engine, Outbox(store, allow_private=True), [229.0, 231.0, 232.0])
        assert first == [{"webhook": Delivery("webhook", State.SENT, 1)}]
        again = AlertStore(path)  # a restart: the same file, a new engine
        assert replay(AlertEngine(again), Outbox(again, allow_private=True), [233.0]) == []
    [got] = rx.got
    assert got.json["condition"] == "AAPL>230.5" and got.json["price"] == 231.0
    assert webhook.verify(got.body, secret, got.headers["X-Photon-Signature"])
    [(logged, deliveries)] = AlertStore(path).log("ann")
    assert logged.id == got.json["id"] and deliveries["webhook"].state is State.SENT


def test_a_firing_whose_process_died_before_delivering_is_resumed(tmp_path):
    path = tmp_path / "alerts.sqlite3"
    with Receiver(codes=[500, 200]) as rx:
        store = AlertStore(path)
        store.set_delivery_settings("ann", rx.url, None)
        engine = AlertEngine(store)
        engine.set_board("ann", "tech", parse_alerts("AAPL>230.5").alerts)
        [fired] = engine.on_tick(Tick("AAPL", 231.0, 1.0, 1_700_000_000.0))
        # ... and the process dies here: the firing and a pending delivery are stored
        restarted = AlertStore(path)
        assert [(f.id, d.state) for f, d in restarted.pending()] == [(fired.id, State.PENDING)]

        async def go():
            outbox = Outbox(restarted, allow_private=True, schedule=(0.01, 0.01))
            return [await t for t in await outbox.resume()]
        assert asyncio.run(go()) == [Delivery("webhook", State.SENT, 2)]
    assert [r.json["id"] for r in rx.got] == [fired.id, fired.id]
    assert restarted.pending() == []


def test_send_test_makes_one_attempt_per_channel_and_records_it(tmp_path):
    store = AlertStore(tmp_path / "alerts.sqlite3")
    assert asyncio.run(Outbox(store).send_test("ann")) == {}  # nothing set: nothing sent
    with Receiver(codes=[500]) as rx:
        store.set_delivery_settings("ann", rx.url, None)
        got = asyncio.run(Outbox(store, allow_private=True, schedule=(60,)).send_test("ann"))
        assert got == {"webhook": Delivery("webhook", State.FAILED, 1, "answered 500")}
        rx.codes = [200]
        ok = asyncio.run(Outbox(store, allow_private=True).send_test("ann"))
        assert ok == {"webhook": Delivery("webhook", State.SENT, 1)}
    assert [r.json["text"] for r in rx.got] == ["Photon test alert: delivery works."] * 2
    assert all(r.json["test"] is True for r in rx.got)
    assert [d for _, d in store.log("ann")] == [ok, got]


def test_submit_delivers_in_the_background(tmp_path):
    store = AlertStore(tmp_path / "alerts.sqlite3")
    with Receiver() as rx:
        store.set_delivery_settings("ann", rx.url, None)
        engine = AlertEngine(store)
        engine.set_board("ann", "tech", parse_alerts("AAPL>230.5").alerts)

        async def go():
            outbox = Outbox(store, allow_private=True)
            for f in engine.on_tick(Tick("AAPL", 231.0, 1.0, 1_700_000_000.0)):
                task = outbox.submit(f)
            result = await task
            await outbox.close()
            return result
        assert asyncio.run(go()) == {"webhook": Delivery("webhook", State.SENT, 1)}
    assert len(rx.got) == 1

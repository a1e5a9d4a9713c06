"""The facade the API will call: delivery settings validated with one-line errors
(the private-address refusal among them), the log as JSON, the test button."""

from __future__ import annotations

import asyncio

import pytest

from app.alerts.outbox import Outbox
from app.alerts.records import Delivery, Firing, State
from app.alerts.service import AlertService, DeliveryInputError
from app.alerts.store import AlertStore
from tests.alerts.receivers import Receiver


def service(tmp_path, allow_private: bool = False) -> AlertService:
    store = AlertStore(tmp_path / "alerts.sqlite3")  # one file: AlertStore(path) reads it too
    return AlertService(store, Outbox(store, allow_private=allow_private),
                        allow_private=allow_private)


def test_settings_start_empty_with_a_secret_and_keep_what_is_not_sent(tmp_path):
    svc = service(tmp_path)
    first = asyncio.run(svc.delivery("ann"))
    assert first["webhook"] is None and first["email"] is None
    assert len(first["webhook_secret"]) >= 32
    got = asyncio.run(svc.set_delivery("ann", {"email": " ann@example.com "}))
    assert got == first | {"email": "ann@example.com"}
    assert asyncio.run(svc.set_delivery("ann", {"email": None}))["email"] is None


@pytest.mark.parametrize("body, message", [
    ([], 'send a JSON object: {"webhook": ..., "email": ...}'),
    ({"sms": "1"}, "unknown field 'sms': only webhook and email"),
    ({"email": 5}, "email must be a string or null"),
    ({"email": "Ann <ann@example.com>"}, "the e-mail must be one address: name@host"),
    ({"webhook": "ftp://x.example/"}, "the webhook must be an http:// or https:// URL"),
    ({"webhook": "http://127.0.0.1:9/hook"},
     "the webhook's host 127.0.0.1, a loopback address: refused "
     "(set PHOTON_WEBHOOK_ALLOW_PRIVATE=1 to allow it)"),
    ({"webhook": "http://169.254.169.254/latest"},
     "the webhook's host 169.254.169.254, a link-local address: refused "
     "(set PHOTON_WEBHOOK_ALLOW_PRIVATE=1 to allow it)"),
])
def test_bad_input_is_one_line_and_saves_nothing(tmp_path, body, message):
    svc = service(tmp_path)
    with pytest.raises(DeliveryInputError) as err:
        asyncio.run(svc.set_delivery("ann", body))
    assert str(err.value) == message
    got = asyncio.run(svc.delivery("ann"))
    assert (got["webhook"], got["email"]) == (None, None)


def test_a_private_webhook_is_taken_with_the_setting(tmp_path):
    svc = service(tmp_path, allow_private=True)
    got = asyncio.run(svc.set_delivery("ann", {"webhook": "http://127.0.0.1:9/hook"}))
    assert got["webhook"] == "http://127.0.0.1:9/hook"


def test_the_log_and_the_test_button_in_json(tmp_path):
    svc = service(tmp_path, allow_private=True)
    store = AlertStore(tmp_path / "alerts.sqlite3")
    f = Firing("ann", "tech", "AAPL", "AAPL>230.5", 231.0, 1_700_000_000.0, 1_700_000_001.0)
    store.log_test(f)
    store.set_delivery(f.id, Delivery("webhook", State.FAILED, 9, "answered 500"))
    with Receiver() as rx:
        asyncio.run(svc.set_delivery("ann", {"webhook": rx.url}))
        assert asyncio.run(svc.send_test("ann")) == {
            "webhook": {"state": "sent", "attempts": 1, "reason": ""}}
    log = asyncio.run(svc.log("ann"))
    assert [e["test"] for e in log] == [True, False]
    assert log[1] == {"id": f.id, "symbol": "AAPL", "condition": "AAPL>230.5", "price": 231.0,
                      "trade_time": "2023-11-14T22:13:20.000Z",
                      "fired_at": "2023-11-14T22:13:21.000Z", "board": "tech", "test": False,
                      "deliveries": {"webhook": {"state": "failed", "attempts": 9,
                                                 "reason": "answered 500"}}}

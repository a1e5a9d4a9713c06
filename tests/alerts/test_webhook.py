"""Webhook delivery against a receiver on loopback: the signed body, retries with the
same id, a failure once the (shortened) schedule runs out, and the refusal of
internal addresses unless PHOTON_WEBHOOK_ALLOW_PRIVATE is set."""

from __future__ import annotations

import asyncio
import hashlib
import hmac

import pytest

from app.alerts import webhook
from app.alerts.delivery import with_retries
from app.alerts.outbox import Outbox
from app.alerts.records import Delivery, Firing, State
from app.alerts.store import AlertStore
from tests.alerts.receivers import Receiver, free_port

FAST = (0.01, 0.02, 0.04)


def firing(**kw) -> Firing:
    base = dict(user="ann", board="tech", symbol="AAPL", condition="AAPL>230.5", price=231.25,
                trade_time=1_700_000_000.25, fired_at=1_700_000_001.0, alert_id="a1")
    return Firing(**(base | kw))


def deliver(tmp_path, url: str, f: Firing | None = None, **kw) -> tuple[Delivery, AlertStore]:
    store = AlertStore(tmp_path / "alerts.sqlite3")
    store.set_delivery_settings("ann", url, None)
    f = f or firing()
    store.log_test(f)  # the log row the deliveries belong to

    async def go():
        outbox = Outbox(store, **({"allow_private": True, "schedule": FAST} | kw))
        try:
            return await outbox.deliver(f)
        finally:
            await outbox.close()
    got = asyncio.run(go())
    assert list(got) == ["webhook"]
    assert store.deliveries(f.id) == got  # what the page will show
    return got["webhook"], store


def test_the_body_has_every_field_and_the_signature_verifies(tmp_path):
    f = firing()
    with Receiver() as rx:
        result, store = deliver(tmp_path, rx.url, f)
    assert result == Delivery("webhook", State.SENT, 1)
    [got] = rx.got
    assert got.json == {"id": f.id, "symbol": "AAPL",
                        "condition": "AAPL>230.5", "price": 231.25,
                        "trade_time": "2023-11-14T22:13:20.250Z",
                        "fired_at": "2023-11-14T22:13:21.000Z", "board": "tech",
                        "text": "Photon alert AAPL>230.5: AAPL traded at 231.25 (board tech)"}
    assert got.headers["Content-Type"] == "application/json"
    secret = store.delivery_settings("ann").webhook_secret
    expected = "sha256=" + hmac.new(secret.encode(), got.body, hashlib.sha256).hexdigest()
    assert got.headers["X-Photon-Signature"] == expected
    assert webhook.verify(got.body, secret, got.headers["X-Photon-Signature"])
    assert not webhook.verify(got.body + b" ", secret, got.headers["X-Photon-Signature"])


def test_a_500_then_a_200_gets_the_same_id_twice(tmp_path):
    f = firing()
    with Receiver(codes=[500, 200]) as rx:
        result, _ = deliver(tmp_path, rx.url, f)
    assert result == Delivery("webhook", State.SENT, 2)
    assert [r.json["id"] for r in rx.got] == [f.id, f.id]
    assert rx.got[0].body == rx.got[1].body


def test_a_500_for_ever_fails_after_the_schedule_with_the_reason(tmp_path):
    with Receiver(codes=[500]) as rx:
        result, _ = deliver(tmp_path, rx.url)
    assert result == Delivery("webhook", State.FAILED, len(FAST) + 1, "answered 500")
    assert len(rx.got) == len(FAST) + 1


def test_retries_wait_by_the_schedule_and_record_pending_in_between(tmp_path):
    waits: list[float] = []
    seen: list[Delivery] = []
    store = AlertStore(tmp_path / "alerts.sqlite3")

    async def sleep(s: float) -> None:
        waits.append(s)
        seen.extend(store.deliveries(f.id).values())
    f = firing()
    with Receiver(codes=[503, 503, 200]) as rx:
        store.set_delivery_settings("ann", rx.url, None)
        store.log_test(f)

        async def go():
            outbox = Outbox(store, allow_private=True, schedule=(7, 8, 9), sleep=sleep)
            return (await outbox.deliver(f))["webhook"]
        result = asyncio.run(go())
    assert waits == [7, 8] and result == Delivery("webhook", State.SENT, 3)
    assert seen == [Delivery("webhook", State.PENDING, 1, "answered 503"),
                    Delivery("webhook", State.PENDING, 2, "answered 503")]


def test_a_client_error_is_not_retried(tmp_path):
    with Receiver(codes=[404]) as rx:
        result, _ = deliver(tmp_path, rx.url)
    assert result == Delivery("webhook", State.FAILED, 1, "answered 404")


def test_no_answer_and_nobody_listening_are_retried_then_failed(tmp_path):
    with Receiver(codes=["hang"], hang_s=2.0) as rx:
        result, _ = deliver(tmp_path, rx.url, schedule=(0.01,), webhook_timeout_s=0.3)
    assert (result.state, result.attempts) == (State.FAILED, 2)
    assert result.reason == "no answer within 0.3 s"
    closed = f"http://127.0.0.1:{free_port()}/hook"
    result, _ = deliver(tmp_path / "b", closed, schedule=(0.01,))
    assert (result.state, result.attempts) == (State.FAILED, 2)
    assert result.reason.startswith("cannot connect")


def test_a_loopback_url_is_refused_without_the_setting(tmp_path):
    with Receiver() as rx:
        result, _ = deliver(tmp_path, rx.url, allow_private=False)
        assert rx.got == []
        assert (result.state, result.attempts) == (State.FAILED, 1)  # final: not retried
        assert "127.0.0.1, a loopback address" in result.reason
        assert "PHOTON_WEBHOOK_ALLOW_PRIVATE=1" in result.reason
        assert "loopback" in webhook.check_url(rx.url)
        assert "localhost resolves to" in webhook.check_url("http://localhost:9/x")
        assert webhook.check_url(rx.url, allow_private=True) is None
        allowed, _ = deliver(tmp_path / "b", rx.url, allow_private=True)
    assert allowed.state is State.SENT and len(rx.got) == 1


@pytest.mark.parametrize("ip, why", [
    ("127.0.0.1", "a loopback address"), ("::1", "a loopback address"),
    ("10.1.2.3", "a private address"), ("192.168.0.1", "a private address"),
    ("172.16.0.1", "a private address"), ("169.254.169.254", "a link-local address"),
    ("fe80::1", "a link-local address"), ("::ffff:127.0.0.1", "a loopback address"),
    ("0.0.0.0", "a private address"), ("100.64.0.1", "not a public address"),
    ("224.0.0.1", "a multicast address"), ("fd00::1", "a private address"),
    ("8.8.8.8", None), ("2606:4700:4700::1111", None),
])
def test_internal_addresses(ip, why):
    assert webhook.internal(ip) == why


@pytest.mark.parametrize("url", ["ftp://example.com/x", "example.com/x", "http:///x",
                                 "http://example.com:99999/", "javascript:alert(1)"])
def test_malformed_urls_are_refused_in_one_line(url):
    assert webhook.check_url(url) == "the webhook must be an http:// or https:// URL"


def test_a_delivery_resumed_with_no_tries_left_fails_at_once(tmp_path):
    recorded: list[Delivery] = []

    async def never():
        raise AssertionError("no attempt must be made")

    async def record(d: Delivery) -> None:
        recorded.append(d)
    got = asyncio.run(with_retries("webhook", never, record, (1.0,), done=2))
    assert got == Delivery("webhook", State.FAILED, 2, "no tries left after a restart")
    assert recorded == [got]

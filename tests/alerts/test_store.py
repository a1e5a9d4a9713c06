"""The alert store: the log newest first with each delivery's state, delivery
settings with a per-user secret that stays, and pending deliveries to resume."""

from __future__ import annotations

import stat

from app.alerts.records import Delivery, Firing, State
from app.alerts.store import AlertStore, default_path


def test_the_default_file_is_in_photons_data_directory(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_path() == tmp_path / "photon" / "alerts.sqlite3"


def test_the_log_is_newest_first_with_each_deliverys_state(tmp_path):
    store = AlertStore(tmp_path / "a.sqlite3")
    old = Firing("ann", "b", "AAPL", "AAPL>1", 2.0, 10.0, fired_at=100.0, test=True)
    new = Firing("ann", "b", "TSLA", "TSLA<5", 4.0, 11.0, fired_at=200.0, test=True)
    for f in (old, new):
        store.log_test(f)
    store.set_delivery(new.id, Delivery("webhook", State.PENDING, 1, "answered 500"))
    store.set_delivery(new.id, Delivery("webhook", State.FAILED, 3, "answered 500"))
    store.set_delivery(new.id, Delivery("email", State.SENT, 1))
    log = store.log("ann")
    assert [f.id for f, _ in log] == [new.id, old.id]
    assert log[0][0] == new
    assert log[0][1] == {"webhook": Delivery("webhook", State.FAILED, 3, "answered 500"),
                         "email": Delivery("email", State.SENT, 1)}
    assert store.log("bob") == []


def test_pending_deliveries_are_found_for_a_restart(tmp_path):
    store = AlertStore(tmp_path / "a.sqlite3")
    f = Firing("ann", "b", "AAPL", "AAPL>1", 2.0, 10.0, test=True)
    store.log_test(f)
    store.set_delivery(f.id, Delivery("webhook", State.PENDING, 2, "no answer"))
    store.set_delivery(f.id, Delivery("email", State.SENT, 1))
    assert AlertStore(store.path).pending() == [(f, Delivery("webhook", State.PENDING, 2,
                                                             "no answer"))]


def test_delivery_settings_keep_a_secret_per_user(tmp_path):
    store = AlertStore(tmp_path / "a.sqlite3")
    ann = store.delivery_settings("ann")
    assert ann.webhook is None and ann.email is None and len(ann.webhook_secret) >= 32
    assert store.delivery_settings("bob").webhook_secret != ann.webhook_secret
    got = store.set_delivery_settings("ann", "https://hooks.example/x", "ann@example.com")
    assert (got.webhook, got.email, got.webhook_secret) == (
        "https://hooks.example/x", "ann@example.com", ann.webhook_secret)
    assert ann.webhook_secret not in repr(got)
    assert AlertStore(store.path).delivery_settings("ann") == got
    assert stat.S_IMODE(store.path.stat().st_mode) & 0o077 == 0

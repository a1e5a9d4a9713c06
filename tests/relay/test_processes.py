"""Several Photon server processes behind one relay: one upstream connection for all."""

from __future__ import annotations

import pytest

from tests.fakes import FakeFinnhub
from tests.redisd import redis_server, relay_process
from tests.support import RawSession, photon_server, wait_until

pytestmark = pytest.mark.server

KEY = "sk-relay-SECRET-77"


def test_one_upstream_connection_serves_two_server_processes(tmp_path):
    with FakeFinnhub(token=KEY) as fake, redis_server(tmp_path) as redisd:
        upstream_env = {"PHOTON_FEED": "finnhub", "FINNHUB_API_KEY": KEY,
                        "FINNHUB_WS_URL": fake.ws_url, "FINNHUB_REST_URL": fake.rest_url}
        server_env = {"PHOTON_REDIS_URL": redisd.url}
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()
        with relay_process(tmp_path, redisd.url, env=upstream_env) as relay, \
                photon_server(tmp_path / "a", env=server_env) as a, \
                photon_server(tmp_path / "b", env=server_env) as b:
            on_a = RawSession(a.url("/app?symbols=AAPL"))
            on_b = RawSession(b.url("/app?symbols=MSFT,TSLA"))
            try:
                wait_until(lambda: fake.current and fake.current.subscribed
                           == {"AAPL", "MSFT", "TSLA"}, what="the union upstream")
                assert len(fake.connections) == 1
                health = b.health()
                assert (health["feed"], health["upstream"]) == ("relay", "finnhub")
            finally:
                on_b.close()
            wait_until(lambda: fake.current.subscribed == {"AAPL"}, timeout=20,
                       what="the union shrinks when b's sessions close")
            on_a.close()
            wait_until(lambda: fake.current.subscribed == set(), timeout=20, what="empty")
            assert len(fake.connections) == 1 and fake.ws_attempts == 1
            for log in (relay.log, a.log, b.log):
                assert KEY not in log.read_text()


def test_a_page_opens_before_any_relay_has_started(tmp_path):
    """No relay yet: no universe for the picker, but the page works and says why."""
    with redis_server(tmp_path) as redisd, \
            photon_server(tmp_path, env={"PHOTON_REDIS_URL": redisd.url}) as server:
        session = RawSession(server.url("/app?symbols=AAPL"))
        try:
            health = wait_until(lambda: (h := server.health())["subscriptions"] and h,
                                what="the session's subscription")
            assert health["subscriptions"] == {"AAPL": 1}
            assert health["state"] == "relay_down"
            assert "no relay has published yet" in health["last_error"]
        finally:
            session.close()

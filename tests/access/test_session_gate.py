"""Tabs per client and per process on a served Photon: the 429 and 503 pages, sockets
refused at the handshake, and a closed tab's place free at once.

The server trusts X-Forwarded-For from loopback, so one test plays several clients;
its unused sessions live ten minutes, so a place that comes back can only have been
freed by the socket's close, not by Bokeh reaping the session.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest
import websocket

from tests.support import photon_server, wait_until


def page(server, client: str) -> tuple[int, dict, str]:
    request = urllib.request.Request(server.url(), headers={"X-Forwarded-For": client})
    try:
        with urllib.request.urlopen(request, timeout=20) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


class Tab:
    """A page and its Bokeh socket (document pulled), from ``client``'s address."""

    def __init__(self, server, client: str):
        status, _, html = page(server, client)
        assert status == 200, html
        self.token = re.search(r'"token":\s*"([^"]+)"', html).group(1)
        self.server, self.client = server, client
        self.ws = bokeh_socket(server, client, self.token)
        header = json.loads(self.ws.recv())
        self.ws.recv()
        self.ws.recv()
        assert header["msgtype"] == "ACK"
        for part in ({"msgid": uuid.uuid4().hex, "msgtype": "PULL-DOC-REQ"}, {}, {}):
            self.ws.send(json.dumps(part))
        self.ws.recv()
        self.ws.recv()
        self.doc = self.ws.recv()

    def fast_lane_url(self) -> str:
        found = re.search(r'"fast_url":"([^"]+)"', self.doc).group(1)
        return urllib.parse.urljoin(self.server.url(), found).replace("http://", "ws://", 1)

    def close(self) -> None:
        self.ws.close()


def bokeh_socket(server, client: str, token: str) -> websocket.WebSocket:
    return websocket.create_connection(server.url("/app/ws").replace("http://", "ws://"),
                                       subprotocols=["bokeh", token], timeout=20,
                                       header=[f"X-Forwarded-For: {client}"])


def made_up_token() -> str:
    from bokeh.util.token import generate_jwt_token, generate_session_id

    return generate_jwt_token(generate_session_id(), signed=False, expiration=300)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {"PHOTON_MAX_SESSIONS_PER_CLIENT": "2", "PHOTON_MAX_SESSIONS": "3",
           "PHOTON_TRUSTED_PROXIES": "127.0.0.1", "PHOTON_HISTORY": "off"}
    with photon_server(tmp_path_factory.mktemp("gate"), env=env,
                       args=("--unused-session-lifetime", "600000")) as s:
        yield s


def test_tabs_per_client_process_limit_and_a_closed_tab_frees_its_place(server):
    a1, a2 = Tab(server, "198.51.100.1"), Tab(server, "198.51.100.1")

    status, headers, html = page(server, "198.51.100.1")
    assert status == 429 and "Retry-After" not in headers
    assert "2 Photon tabs are open for you; close one" in html
    assert headers["Content-Type"].startswith("text/html")
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        bokeh_socket(server, "198.51.100.1", made_up_token())  # a session built by hand
    assert refused.value.status_code == 429

    b1 = Tab(server, "198.51.100.2")  # another client: the process's third place
    status, headers, html = page(server, "198.51.100.3")
    assert status == 503 and headers["Retry-After"] == "60"
    assert "Photon is full, try again in a minute" in html
    assert server.metric("photon_requests_refused_total", reason="session_client") >= 2
    assert server.metric("photon_requests_refused_total", reason="session_process") >= 1

    fast_url = a1.fast_lane_url()
    a1.close()  # its session lives on ten minutes, unused: only the close can free it
    a3 = wait_until(lambda: page(server, "198.51.100.1")[0] == 200 or None, timeout=20,
                    what="the closed tab's place")
    assert a3
    # a1's session lost its place and a1's client has none left: its fast lane is refused
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(fast_url, timeout=20,
                                    header=["X-Forwarded-For: 198.51.100.1"])
    assert refused.value.status_code == 429
    for tab in (a2, b1):
        tab.close()

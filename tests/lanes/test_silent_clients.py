"""Silent and slow clients on a served Photon: a fast-lane socket that never reads is
closed once its unsent data passes the bound, or once it leaves a ping unanswered; an
HTTP connection that never finishes its request head is closed after the header
timeout; each counted in /metrics."""

from __future__ import annotations

import base64
import json
import os
import re
import socket
import urllib.parse

import pytest

from tests.support import RawSession, photon_server, wait_until


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {"PHOTON_WS_MAX_UNSENT_BYTES": "4096", "PHOTON_HTTP_HEADER_TIMEOUT_S": "1",
           "PHOTON_SYMBOLS": "AAPL,TSLA,GOOGL,MSFT,AMZN,NVDA,META,NFLX",
           "PHOTON_PUSH_INTERVAL_MS": "20", "PHOTON_HISTORY": "off"}
    with photon_server(tmp_path_factory.mktemp("silent"), env=env) as s:
        yield s


def closed_by_peer(sock: socket.socket) -> bool:
    """True once the server has closed ``sock`` (reads what is left, without blocking)."""
    sock.setblocking(False)
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                return True
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


def silent_fast_lane(server) -> tuple[RawSession, socket.socket]:
    """A session, and its fast-lane socket opened on a raw socket that will never read
    (a 1 kB receive buffer: it fills at once) nor answer a ping."""
    session = RawSession(server.url())
    found = re.search(r'"fast_url":"([^"]+)"', json.dumps(session.doc, separators=(",", ":")))
    url = urllib.parse.urlsplit(urllib.parse.urljoin(server.url(), found.group(1)))
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
    sock.connect(("127.0.0.1", server.port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET {url.path}?{url.query} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
                  f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                  f"Origin: {server.base}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    head = sock.recv(256)  # the 101; then never read again
    assert head.startswith(b"HTTP/1.1 101"), head
    return session, sock


def test_a_fast_lane_socket_that_never_reads_is_closed_past_the_bound(server):
    before = server.metric("photon_connections_closed_total", reason="ws_unsent")
    session, sock = silent_fast_lane(server)
    wait_until(lambda: server.metric("photon_connections_closed_total",
                                     reason="ws_unsent") > before,
               timeout=60, what="the non-reading socket closed for its unsent bytes")
    wait_until(lambda: closed_by_peer(sock), timeout=30, what="the socket closed")
    sock.close()
    session.close()


@pytest.fixture(scope="module")
def pinging_server(tmp_path_factory):
    env = {"PHOTON_WS_PING_TIMEOUT_S": "1", "PHOTON_HISTORY": "off"}
    # unused sessions live ten minutes: the session's end cannot be what closes the socket
    with photon_server(tmp_path_factory.mktemp("ping"), env=env,
                       args=("--unused-session-lifetime", "600000")) as s:
        yield s


def test_a_socket_that_leaves_a_ping_unanswered_is_closed(pinging_server):
    server = pinging_server
    before = server.metric("photon_connections_closed_total", reason="ws_ping_timeout")
    session, sock = silent_fast_lane(server)
    wait_until(lambda: server.metric("photon_connections_closed_total",
                                     reason="ws_ping_timeout") > before,
               timeout=30, what="a ping timeout counted")
    wait_until(lambda: closed_by_peer(sock), timeout=30, what="the socket closed")
    assert server.metric("photon_connections_closed_total", reason="ws_unsent") == 0
    sock.close()
    session.close()


def test_a_half_open_http_connection_is_closed_after_the_header_timeout(server):
    before = server.metric("photon_connections_closed_total", reason="http_header_timeout")
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the end
    wait_until(lambda: closed_by_peer(sock), timeout=30, what="the half-open connection closed")
    sock.close()
    wait_until(lambda: server.metric("photon_connections_closed_total",
                                     reason="http_header_timeout") > before,
               timeout=10, what="the header timeout counted")

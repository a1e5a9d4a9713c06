"""Redis with a password (``redis://:pw@``, ``?password=``) and TLS (``rediss://``).

Against real ``redis-server --requirepass`` (and ``--tls-port``) processes: the relay
and the servers work through them, and the password never shows in a log line, an
error, ``/health`` or ``/metrics``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from app.feeds import redis_url
from app.feeds.mock import MockFeed
from app.feeds.redis_feed import RedisFeed
from app.hub.hub import Hub
from app.lanes.routes import health_report
from app.relay.publisher import Relay
from app.runtime import metrics
from app.ticks import FeedState
from tests.redisd import REDIS_SERVER, relay_process
from tests.support import ROOT, RawSession, free_port, photon_server, wait_until

pytestmark = pytest.mark.server

PASSWORD = "Redis-Pw-9f3!x"  # a "!" percent-encoded in URLs: both forms must stay hidden
QUOTED = PASSWORD.replace("!", "%21")


@contextlib.contextmanager
def redis_with(workdir: Path, *args: str, tls_port: int | None = None,
               client: dict | None = None) -> Iterator[int]:
    """``redis-server`` with extra arguments; yields the port clients use."""
    port = tls_port or free_port()
    listen = ["--port", "0", "--tls-port", str(port)] if tls_port else ["--port", str(port)]
    with (workdir / f"redis-{port}.log").open("w") as log:
        proc = subprocess.Popen([REDIS_SERVER, *listen, "--bind", "127.0.0.1", "--save", "",
                                 "--appendonly", "no", "--dir", str(workdir), *args],
                                stdout=log, stderr=subprocess.STDOUT)

    def up() -> bool:
        try:
            return bool(redis.Redis(host="127.0.0.1", port=port, password=PASSWORD,
                                    socket_timeout=1, **(client or {})).ping())
        except redis.RedisError:
            return False

    try:
        wait_until(up, timeout=10, what=f"redis-server on {port}")
        yield port
    finally:
        proc.kill()
        proc.wait(10)


def no_password_in(*texts: str) -> None:
    for text in texts:
        assert PASSWORD not in text and QUOTED not in text


def run_relay_and_hub(url: str, caplog) -> None:
    """An in-process relay and a server hub through ``url``: live prices, nothing leaked."""
    caplog.set_level(logging.DEBUG)
    relay = Relay(lambda: MockFeed(seed=4), url)
    thread = threading.Thread(target=relay.run, daemon=True)
    thread.start()
    hub = Hub(RedisFeed(url, proc_id="auth"), push_interval_ms=50).start()
    try:
        hub.subscribe(["AAPL"])
        wait_until(lambda: hub.health().state is FeedState.LIVE, what="live through Redis")
        ticks = hub.ticks_received
        wait_until(lambda: hub.ticks_received > ticks, what="ticks")
        status, body = health_report(hub)
        assert status == 200
        no_password_in(json.dumps(body), metrics.render_latest()[0].decode(), repr(hub.feed),
                       repr(relay), caplog.text)
    finally:
        hub.stop()
        relay.stop()
        thread.join(10)


@pytest.fixture
def requirepass(tmp_path):
    with redis_with(tmp_path, "--requirepass", PASSWORD) as port:
        yield port


@pytest.mark.parametrize("form", ["userinfo", "query"])
def test_relay_and_server_work_with_a_password(requirepass, caplog, form):
    url = (f"redis://:{QUOTED}@127.0.0.1:{requirepass}/0" if form == "userinfo" else
           f"redis://127.0.0.1:{requirepass}/0?password={QUOTED}")
    run_relay_and_hub(url, caplog)


@pytest.mark.parametrize("url", [
    "redis://:{pw}@127.0.0.1:{port}/0", "redis://127.0.0.1:{port}/0?password={pw}",
])
def test_a_wrong_password_says_so_without_showing_it(requirepass, caplog, url):
    caplog.set_level(logging.DEBUG)
    wrong = "Wrong-" + QUOTED
    url = url.format(pw=wrong, port=requirepass)
    hub = Hub(RedisFeed(url, proc_id="wrong"), push_interval_ms=50).start()
    try:
        health = wait_until(lambda: (h := hub.health()).state is FeedState.DOWN and h,
                            what="down")
        assert "Redis unreachable" in health.last_error and "***" in health.last_error
        status, body = health_report(hub)
        assert status == 503
        texts = (json.dumps(body), metrics.render_latest()[0].decode(), caplog.text)
        for text in texts:
            assert wrong not in text and "Wrong-" + PASSWORD not in text
    finally:
        hub.stop()


def test_a_wrong_password_at_start_is_one_line_without_it(requirepass, tmp_path):
    wrong = "Wrong-" + QUOTED
    for url in (f"redis://:{wrong}@127.0.0.1:{requirepass}/0",
                f"redis://127.0.0.1:{requirepass}/0?password={wrong}",
                f"http://:{wrong}@127.0.0.1:{requirepass}/0"):  # a wrong scheme too
        done = subprocess.run([sys.executable, "-m", "app", "relay", "--redis-url", url],
                              cwd=tmp_path, capture_output=True, text=True, timeout=60,
                              env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
        assert done.returncode == 2, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and "PHOTON_REDIS_URL" in done.stderr
        assert wrong not in done.stderr and "Wrong-" + PASSWORD not in done.stderr


def test_processes_with_a_password_never_show_it(requirepass, tmp_path):
    """A relay process and a server process: /health, /metrics and both logs stay clean."""
    url = f"redis://:{QUOTED}@127.0.0.1:{requirepass}/0"
    with relay_process(tmp_path, url) as relay, \
            photon_server(tmp_path, env={"PHOTON_REDIS_URL": url,
                                         "PHOTON_LOG_LEVEL": "DEBUG"}) as server:
        session = RawSession(server.url("/app?symbols=AAPL"))
        try:
            health = wait_until(lambda: (h := server.health())["state"] == "live" and h,
                                timeout=30, what="live through the relay")
            assert health["upstream"] == "mock"
            with urllib.request.urlopen(server.url("/metrics"), timeout=5) as r:
                page = r.read().decode()
            no_password_in(json.dumps(health), page, relay.log.read_text(), server.output())
        finally:
            session.close()


@pytest.fixture
def tls(tmp_path):
    """A CA and a server certificate for 127.0.0.1 (openssl), and redis-server on TLS."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed")
    d = tmp_path

    def ssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)

    ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test-ca",
        "-keyout", "ca.key", "-out", "ca.pem")
    ssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
        "-keyout", "server.key", "-out", "server.csr")
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    ssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", "server.pem")
    client = {"ssl": True, "ssl_ca_certs": str(d / "ca.pem")}
    with redis_with(d, "--tls-cert-file", str(d / "server.pem"), "--tls-key-file",
                    str(d / "server.key"), "--tls-ca-cert-file", str(d / "ca.pem"),
                    "--tls-auth-clients", "no", "--requirepass", PASSWORD,
                    tls_port=free_port(), client=client) as port:
        yield port, d / "ca.pem"


def test_relay_and_server_work_over_tls_with_a_password(tls, caplog):
    port, ca = tls
    run_relay_and_hub(f"rediss://:{QUOTED}@127.0.0.1:{port}/0?ssl_ca_certs={ca}", caplog)


def test_a_plain_client_on_the_tls_port_is_an_error_not_a_hang(tls):
    port, _ = tls
    why = redis_url.ping(f"redis://:{QUOTED}@127.0.0.1:{port}/0", timeout_s=2)
    assert why is not None and "cannot reach Redis" in why
    no_password_in(why)

"""The README's nginx configuration, for real: Debian's nginx in front of two Photon
server processes and one relay, over TLS with a certificate the test makes, and a
browser that loads the board through it."""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import re
import shutil
import ssl
import subprocess
import urllib.request
from pathlib import Path

import pytest

from tests.browser.conftest import DEEP_QUERY
from tests.browser.helpers import open_board, prices
from tests.redisd import redis_server, relay_process
from tests.support import ROOT, free_port, photon_server, wait_until

pytestmark = pytest.mark.browser

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def site_config(plain: int, tls: int, ports: list[int], cert: Path, key: Path) -> str:
    """deploy/nginx-photon.conf with this test's ports instead of 80, 443 and 5101/5102,
    and its certificate."""
    text = (ROOT / "deploy/nginx-photon.conf").read_text()
    text = text.replace("listen 80;", f"listen 127.0.0.1:{plain};")
    text = text.replace("listen 443 ssl;", f"listen 127.0.0.1:{tls} ssl;")
    text = text.replace("https://$host$request_uri", f"https://$host:{tls}$request_uri")
    text = re.sub(r"ssl_certificate .*;", f"ssl_certificate {cert};", text)
    text = re.sub(r"ssl_certificate_key .*;", f"ssl_certificate_key {key};", text)
    for old, new in zip((5101, 5102), ports, strict=True):
        text = text.replace(str(old), str(new))
    directives = re.sub(r"#.*", "", text)
    assert not re.search(r"\b(510[12]|80|443)\b", directives)
    assert str(cert) in text and str(key) in text
    return text


def self_signed(workdir: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made with the openssl command."""
    cert, key = workdir / "cert.pem", workdir / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


@contextlib.contextmanager
def nginx(workdir: Path, site: str):
    """nginx in the foreground with its own prefix, logs and temp dirs under ``workdir``."""
    if not Path(NGINX).exists():
        pytest.fail("nginx not found: apt-get install -y nginx (.ci/run does)")
    (workdir / "logs").mkdir()
    (workdir / "site.conf").write_text(site)
    temp = "".join(f"    {k}_temp_path {workdir}/{k};\n"
                   for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (workdir / "nginx.conf").write_text(
        f"user root;\nworker_processes 1;\npid {workdir}/nginx.pid;\n"
        f"error_log {workdir}/logs/error.log warn;\nevents {{}}\n"
        f"http {{\n    access_log {workdir}/logs/access.log;\n{temp}"
        f"    include {workdir}/site.conf;\n}}\n")
    proc = subprocess.Popen([NGINX, "-p", str(workdir), "-c", str(workdir / "nginx.conf"),
                             "-g", "daemon off;"], stderr=subprocess.PIPE, text=True)
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait(10)


@dataclasses.dataclass
class Deployment:
    origin: str  # the public host:port (TLS)
    plain: str  # the port-80 stand-in's host:port
    cert: Path
    servers: list
    stack: contextlib.ExitStack  # closed before the servers stop


@contextlib.contextmanager
def two_servers_behind_nginx(tmp_path: Path):
    """Redis, a relay, two servers and nginx (deploy/nginx-photon.conf, over TLS with a
    self-signed certificate) in front of them."""
    plain, tls = free_port(), free_port()
    origin = f"127.0.0.1:{tls}"
    with redis_server(tmp_path) as redisd, relay_process(tmp_path, redisd.url):
        servers = []
        with contextlib.ExitStack() as stack:
            for name in ("a", "b"):
                (tmp_path / name).mkdir()
                servers.append(stack.enter_context(photon_server(
                    tmp_path / name, env={"PHOTON_REDIS_URL": redisd.url,
                                          "PHOTON_COOKIE_SECURE": "1"},
                    args=("--allow-websocket-origin", origin))))
            (tmp_path / "nginx").mkdir()
            cert, key = self_signed(tmp_path / "nginx")
            stack.enter_context(nginx(tmp_path / "nginx", site_config(
                plain, tls, [s.port for s in servers], cert, key)))
            wait_until(lambda: listening(tls) and listening(plain), timeout=30, what="nginx")
            yield Deployment(origin, f"127.0.0.1:{plain}", cert, servers, stack)


def https_context(browser):
    """A browser context that takes the test's self-signed certificate."""
    return browser.new_context(ignore_https_errors=True)


def check_tls_and_headers(deployment: Deployment) -> None:
    """The board page comes through TLS (the certificate verified) with HSTS and
    Photon's own headers; port 80 only redirects there; no version names nginx."""
    verified = ssl.create_default_context(cafile=str(deployment.cert))
    with urllib.request.urlopen(f"https://{deployment.origin}/app", context=verified,
                                timeout=20) as answer:
        assert answer.status == 200 and b"bokeh" in answer.read()
        assert answer.headers["Strict-Transport-Security"] == "max-age=63072000"
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert "'nonce-" in answer.headers["Content-Security-Policy"]
        assert answer.headers["Server"] == "nginx"
        node = [c for c in answer.headers.get_all("Set-Cookie") if "photon_node" in c]
        assert node and "Secure" in node[0]
    conn = http.client.HTTPConnection(deployment.plain, timeout=20)
    conn.request("GET", "/app?symbols=AAPL")
    redirect = conn.getresponse()
    assert redirect.status == 301
    assert redirect.headers["Location"] == f"https://{deployment.origin}/app?symbols=AAPL"
    assert redirect.headers["Server"] == "nginx"
    conn.close()


def test_two_processes_behind_nginx_serve_live_prices_to_each_viewer(tmp_path, browser):
    with two_servers_behind_nginx(tmp_path) as deployment:
        origin, servers, stack = deployment.origin, deployment.servers, deployment.stack
        check_tls_and_headers(deployment)
        viewers = []
        for symbols in ("AAPL,TSLA", "NVDA"):  # two viewers, each in its own browser
            context = https_context(browser)
            stack.callback(context.close)
            page = context.new_page()
            page.add_init_script(DEEP_QUERY)
            console: list[str] = []
            page.on("console", lambda m, c=console: c.append(m.text))
            open_board(page, f"https://{origin}/app?symbols={symbols}")
            first = wait_until(lambda p=page: (x := prices(p)) and "—" not in x.values()
                               and x, timeout=30, what="prices through nginx")
            wait_until(lambda p=page, f=first: prices(p) != f, timeout=30,
                       what="live updates through nginx")
            cookie = {c["name"]: c["value"] for c in context.cookies()}["photon_node"]
            viewers.append((page, console, cookie))
        # Each viewer stuck to one process, and the two were spread over both.
        assert {v[2] for v in viewers} == {f"127.0.0.1:{s.port}" for s in servers}
        for server, (_, console, _) in zip(sorted(servers, key=lambda s: s.port),
                                           sorted(viewers, key=lambda v: v[2]),
                                           strict=True):
            health = server.health()
            assert health["sessions"] == 1 and health["fast_lane_sockets"] == 1
            assert "WebSocket Connected" in console


def test_a_viewer_whose_process_dies_is_back_on_live_prices_from_the_other(tmp_path, browser):
    """kill -9 of the process a page is on: nginx sends the page's reconnect to the other
    process (deploy/nginx-photon.conf), the page reloads itself there, prices go on. An
    embed on the same process (its socket is its session) reconnects there by itself."""
    with two_servers_behind_nginx(tmp_path) as deployment:
        origin, servers = deployment.origin, deployment.servers
        context = https_context(browser)
        deployment.stack.callback(context.close)
        page = context.new_page()
        page.add_init_script(DEEP_QUERY)
        open_board(page, f"https://{origin}/app?symbols=AAPL,TSLA")
        wait_until(lambda: (x := prices(page)) and "—" not in x.values(), timeout=30,
                   what="prices through nginx")
        embed = page.context.new_page()
        embed.goto(f"https://{origin}/sparkline?symbol=NVDA")
        embed.locator("[data-state=live]").wait_for(timeout=30_000)

        def node() -> str:
            return {c["name"]: c["value"] for c in page.context.cookies()}["photon_node"]

        [dead] = [s for s in servers if node() == f"127.0.0.1:{s.port}"]
        [alive] = [s for s in servers if s is not dead]
        assert "NVDA" in dead.health()["subscriptions"]  # the embed went where the board is
        assert "NVDA" not in alive.health()["subscriptions"]
        dead.proc.kill()
        dead.proc.wait(10)
        wait_until(lambda: node() == f"127.0.0.1:{alive.port}", timeout=120,
                   what="the page on the other process")
        wait_until(lambda: alive.health()["fast_lane_sockets"] == 1, timeout=60,
                   what="the page's fast lane on the other process")
        first = wait_until(lambda: (x := shown(page)) and "—" not in x.values() and x,
                           timeout=60, what="prices again")
        wait_until(lambda: shown(page) not in (first, {}), timeout=60,
                   what="live prices again")
        # the embed, without a reload: live again, on the other process, prices moving
        embed.locator("[data-state=live]").wait_for(timeout=60_000)
        wait_until(lambda: "NVDA" in alive.health()["subscriptions"], timeout=30,
                   what="the embed's symbol on the other process")
        held = embed.locator(".photon-price").inner_text()
        wait_until(lambda: embed.locator(".photon-price").inner_text() != held, timeout=60,
                   what="the embed's price moving again")


def listening(port: int) -> bool:
    import socket

    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def shown(page) -> dict[str, str]:
    """The board's prices; none while the page is reloading itself."""
    from playwright.sync_api import Error

    try:
        return prices(page)
    except Error:  # the page navigated (its reload) while being read
        return {}

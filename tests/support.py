"""Helpers shared by server and browser tests: run a real Photon server process."""

from __future__ import annotations

import contextlib
import json
import os
import random
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def stop(proc: subprocess.Popen, grace_s: float = 10.0) -> None:
    """SIGTERM, then SIGKILL if ``proc`` has not ended within ``grace_s``; reaped either way."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


_given: set[int] = set()


def free_port(count: int = 1) -> int:
    """A free port P (with P+1 … P+count-1 free too) for a server a test starts later.

    Taken below Linux's ephemeral range (32768 and up), never from the kernel's
    ``bind(0)``: that hands out an ephemeral port, which a client connection made
    meanwhile (a browser, a Redis client, a health poll) may take as its local port,
    and the server then fails with "address already in use". Never the same port twice
    in one test run.
    """
    while True:
        port = random.randrange(20_000, 32_000 - count)
        span = range(port, port + count)
        if _given.intersection(span):
            continue
        try:
            for p in span:
                with socket.socket() as s:
                    s.bind(("127.0.0.1", p))
        except OSError:
            continue
        _given.update(span)
        return port


def get_json(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def wait_until(cond: Callable[[], object], timeout: float = 15.0, every: float = 0.05,
               what: str = "condition"):
    """Poll ``cond`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = cond()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


class Server:
    """A running ``python -m app`` process on a free loopback port."""

    def __init__(self, proc: subprocess.Popen, port: int, log: Path):
        self.proc = proc
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.log = log

    def url(self, path: str = "/app") -> str:
        return self.base + path

    def health(self) -> dict:
        return get_json(self.url("/health"))[1]

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def metric(self, name: str, **labels: str) -> float:
        """One sample of ``/metrics`` (0 when it is not there yet)."""
        with urllib.request.urlopen(self.url("/metrics"), timeout=5) as r:
            text = r.read().decode()
        shown = ",".join(f'{k}="{v}"' for k, v in labels.items())
        key = f"{name}{{{shown}}}" if labels else name
        for line in text.splitlines():
            if line.startswith(key + " "):
                return float(line.split()[-1])
        return 0.0


@contextlib.contextmanager
def photon_server(tmp_dir: Path, env: dict[str, str] | None = None,
                  args: tuple[str, ...] = (), port: int | None = None) -> Iterator[Server]:
    """Start Photon with short session lifetimes so closed tabs are reaped quickly
    (``args`` come last: they may set others)."""
    port = port or free_port()
    log = tmp_dir / f"photon-{port}.log"
    full_env = {**os.environ, "PHOTON_MOCK_SEED": "11", **(env or {})}
    cmd = [sys.executable, "-m", "app", "--port", str(port),
           "--check-unused-sessions", "250", "--unused-session-lifetime", "1000", *args]
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=tmp_dir, env=full_env, stdout=out,
                                stderr=subprocess.STDOUT)
    server = Server(proc, port, log)
    try:
        def up():
            if proc.poll() is not None:
                raise AssertionError(f"server exited:\n{server.output()}")
            try:
                return get_json(server.url("/health"))[0] in (200, 503)  # 503: feed down
            except OSError:
                return False
        wait_until(up, timeout=60, what="server start")
        yield server
    finally:
        stop(proc)


class RawSession:
    """A Bokeh session held open without a browser: GET the page, attach its WebSocket.

    The server creates the session (running app/main.py) on the GET; like a tab,
    the client then pulls the document and says it is ready (after which Panel
    starts sending updates), and the open WebSocket keeps the session alive until
    :meth:`close`.
    """

    def __init__(self, page_url: str):
        import re

        import websocket

        with urllib.request.urlopen(page_url, timeout=10) as r:
            html = r.read().decode()
        token = re.search(r'"token":\s*"([^"]+)"', html).group(1)
        ws_url = page_url.split("?")[0].replace("http://", "ws://", 1) + "/ws"
        self.ws = websocket.create_connection(ws_url, subprotocols=["bokeh", token], timeout=10)
        self.recv_message()  # ACK
        self.page_url = page_url
        self.send_message("PULL-DOC-REQ", {})
        self.doc = self.recv_message()[1]  # PULL-DOC-REPLY
        ready = {"kind": "MessageSent", "msg_type": "bokeh_event",
                 "msg_data": {"type": "event", "name": "document_ready",
                              "values": {"type": "map"}}}
        self.send_message("PATCH-DOC", {"events": [ready]})

    def open_fast_lane(self):
        """Open the board's fast-lane socket (its URL and token are in the document)."""
        import re
        import urllib.parse

        import websocket

        found = re.search(r'"fast_url":"([^"]+)"', json.dumps(self.doc, separators=(",", ":")))
        assert found, "this session does not use the fast lane"
        url = urllib.parse.urljoin(self.page_url, found.group(1)).replace("http://", "ws://", 1)
        return websocket.create_connection(url, timeout=10)

    def send_message(self, msgtype: str, content: dict) -> None:
        """One Bokeh protocol message: header, metadata and content text frames."""
        import uuid

        self.ws.send(json.dumps({"msgid": uuid.uuid4().hex, "msgtype": msgtype}))
        self.ws.send("{}")
        self.ws.send(json.dumps(content))

    def recv_message(self) -> tuple[dict, dict]:
        """(header, content) of the next message; binary buffers are not expected here."""
        header = json.loads(self.ws.recv())
        self.ws.recv()  # metadata
        content = json.loads(self.ws.recv())
        return header, content

    def close(self) -> None:
        self.ws.close()


def failure_context(funcargs: dict) -> list[tuple[str, str]]:
    """(title, text) sections for a failed test: each served Photon's log tail and
    /health, and the board rows and console errors of each open page."""
    sections: list[tuple[str, str]] = []
    for name, value in funcargs.items():
        server = value if isinstance(value, Server) else getattr(value, "server", None)
        if isinstance(server, Server):
            tail = "\n".join(server.output().splitlines()[-60:])
            sections.append((f"photon log ({name}), last lines", tail))
            try:
                sections.append((f"photon /health ({name})", json.dumps(server.health())))
            except Exception as e:  # noqa: BLE001 - the server may be the thing that broke
                sections.append((f"photon /health ({name})", f"unreachable: {e!r}"))
        if hasattr(value, "locator") and hasattr(value, "console"):
            try:
                rows = value.locator(".photon-body [data-symbol]").all_inner_texts()
                status = value.locator(".photon-status").all_inner_texts()
            except Exception as e:  # noqa: BLE001 - the page may be gone
                rows, status = [f"unreadable: {e!r}"], []
            errors = getattr(value.console, "errors", [])
            sections.append((f"page ({name})", "\n".join(
                [f"url: {value.url}", f"status: {status}", "rows:", *rows,
                 f"page errors: {errors}"])))
    return sections


def bars_by_now(symbol: str, most: int) -> int:
    """How many one-minute bars a day of ``symbol`` holds by now, at most ``most``: its
    session in progress, else its last (app.history.backfill.last_session). Early in a
    trading day that is only minutes; a test that wants "a day" must not depend on the
    hour it runs at."""
    from app.history.backfill import last_session

    start, end = last_session(symbol, time.time())
    return max(1, min(most, (end - start) // 60 - 2))

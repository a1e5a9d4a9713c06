"""What the sign-in tests do as a browser would: fill the form, open a board's sockets."""

from __future__ import annotations

import json
import re
import urllib.parse
import uuid
from pathlib import Path

import requests
import websocket

from app.access.passwords import Users
from app.access.tokens import Tokens

#: Names and passwords of the users file the tests serve (mallory: not allowed).
PASSWORDS = {"alice": "alice-password-1", "bob": "bob-password-22", "mallory": "mallory-pw-333"}
ALLOWED = "alice,bob"
COOKIE_SECRET = "test-cookie-secret-" + "x" * 24


def write_files(tmp: Path) -> tuple[Path, Path, str]:
    """A users file of :data:`PASSWORDS`, a tokens file with one token; the token."""
    users, tokens = tmp / "users", tmp / "tokens"
    for name, password in PASSWORDS.items():
        Users(str(users)).add(name, password)
    return users, tokens, Tokens(str(tokens)).add("ci-bot")


def login_form(session: requests.Session, base: str, next_path: str = "/app") -> str:
    """GET /login; the form's anti-forgery token."""
    r = session.get(f"{base}/login", params={"next": next_path}, timeout=10)
    assert r.status_code == 200, r.text
    return re.search(r'name="_xsrf" value="([^"]+)"', r.text).group(1)


def post_login(session: requests.Session, base: str, name: str, password: str,
               next_path: str = "/app", xsrf: str | None = None) -> requests.Response:
    token = login_form(session, base, next_path) if xsrf is None else xsrf
    return session.post(f"{base}/login", data={"_xsrf": token, "username": name,
                                              "password": password, "next": next_path},
                        allow_redirects=False, timeout=10)


def sign_in(base: str, name: str) -> str:
    """The ``user`` cookie of ``name`` signed in through the form."""
    session = requests.Session()
    r = post_login(session, base, name, PASSWORDS[name])
    assert r.status_code == 302, r.text
    return session.cookies["user"]


class Board:
    """A board session opened with a sign-in cookie, as a browser tab would: the page,
    then its Bokeh socket, whose document holds the fast-lane URL and token."""

    def __init__(self, base: str, cookies: dict[str, str]):
        self.base = base
        self.cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
        r = requests.get(f"{base}/app", cookies=cookies, allow_redirects=False, timeout=10)
        assert r.status_code == 200, r.status_code
        token = re.search(r'"token":\s*"([^"]+)"', r.text).group(1)
        self.ws = websocket.create_connection(base.replace("http", "ws", 1) + "/app/ws",
                                              subprotocols=["bokeh", token],
                                              cookie=self.cookie, timeout=10)
        self._recv()  # ACK
        self._send("PULL-DOC-REQ", {})
        doc = json.dumps(self._recv()[1], separators=(",", ":"))
        self.fast_url = urllib.parse.urljoin(
            f"{base}/app", re.search(r'"fast_url":"([^"]+)"', doc).group(1))
        self.doc_text = doc

    def _send(self, msgtype: str, content: dict) -> None:
        self.ws.send(json.dumps({"msgid": uuid.uuid4().hex, "msgtype": msgtype}))
        self.ws.send("{}")
        self.ws.send(json.dumps(content))

    def _recv(self) -> tuple[dict, dict]:
        header = json.loads(self.ws.recv())
        self.ws.recv()
        return header, json.loads(self.ws.recv())

    def open_fast_lane(self, cookies: dict[str, str]) -> websocket.WebSocket:
        """The fast-lane socket of this board, opened with ``cookies`` (someone's)."""
        cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
        return websocket.create_connection(self.fast_url.replace("http", "ws", 1),
                                           cookie=cookie, timeout=10, origin=self.base)

    def close(self) -> None:
        self.ws.close()

"""A fake OAuth 2 / OpenID Connect provider on loopback, for Panel's ``generic`` provider.

It signs in whoever :attr:`FakeProvider.user` names, without asking: ``/authorize``
sends the browser straight back with a code, ``/token`` trades the code (and the
client's secret) for an access token, ``/userinfo`` says whose token it is. Enough
for a test to walk the whole redirect dance, by HTTP client or in Chromium.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
from urllib.parse import urlencode

from tornado.httpserver import HTTPServer
from tornado.web import Application, HTTPError, RequestHandler

from tests.support import free_port

CLIENT_ID = "photon-test-client"
CLIENT_SECRET = "fake-client-secret-not-real"


class _Authorize(RequestHandler):
    def get(self) -> None:
        fake: FakeProvider = self.settings["fake"]
        if self.get_query_argument("client_id") != CLIENT_ID:
            raise HTTPError(400, "unknown client")
        code = secrets.token_urlsafe(16)
        fake.codes[code] = fake.user
        fake.authorize_calls += 1
        target = self.get_query_argument("redirect_uri")
        query = urlencode({"code": code, "state": self.get_query_argument("state", "")})
        self.redirect(f"{target}{'&' if '?' in target else '?'}{query}")


class _Token(RequestHandler):
    def post(self) -> None:
        fake: FakeProvider = self.settings["fake"]
        if (self.get_body_argument("client_id", "") != CLIENT_ID
                or self.get_body_argument("client_secret", "") != CLIENT_SECRET):
            self.set_status(401)
            self.finish({"error": "invalid_client"})
            return
        user = fake.codes.pop(self.get_body_argument("code", ""), None)
        if user is None:
            self.set_status(400)
            self.finish({"error": "invalid_grant"})
            return
        token = secrets.token_urlsafe(16)
        fake.tokens[token] = user
        self.finish({"access_token": token, "token_type": "Bearer", "expires_in": 3600})


class _UserInfo(RequestHandler):
    def get(self) -> None:
        fake: FakeProvider = self.settings["fake"]
        token = self.request.headers.get("Authorization", "").removeprefix("Bearer ")
        user = fake.tokens.get(token)
        if user is None:
            raise HTTPError(401)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"sub": user, "email": user, "name": user.split("@")[0]}))


class FakeProvider:
    """The provider, served from its own thread and event loop on a free loopback port."""

    def __init__(self, user: str = "alice@corp.test"):
        self.user = user
        self.codes: dict[str, str] = {}
        self.tokens: dict[str, str] = {}
        self.authorize_calls = 0
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def extra_params(self) -> str:
        """``PHOTON_OAUTH_EXTRA_PARAMS`` for Panel's generic provider."""
        return json.dumps({"AUTHORIZE_URL": f"{self.base}/authorize",
                           "TOKEN_URL": f"{self.base}/token",
                           "USER_URL": f"{self.base}/userinfo"})

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = Application([("/authorize", _Authorize), ("/token", _Token),
                           ("/userinfo", _UserInfo)], fake=self)
        server = HTTPServer(app)
        server.listen(self.port, "127.0.0.1")
        self._ready.set()
        self._loop.run_forever()
        server.stop()

    def __enter__(self) -> FakeProvider:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

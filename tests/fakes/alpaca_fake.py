"""A local fake of Alpaca's market-data v2 stream and snapshot REST, for protocol tests.

Real message shapes: JSON arrays of ``{"T": ...}``; ``connected`` on open, then
``auth`` -> ``authenticated`` or error 402 (and close); subscribe before auth ->
401; a second auth -> 403; no auth within ``auth_timeout_s`` -> 404 (and close);
more trade symbols than ``symbol_limit`` -> 405 (the socket stays open). Any other
error a test wants it pushes with :meth:`FakeAlpaca.error`. The connection plumbing
(start/stop, send, drop, waiting for connections) is :class:`FakeFinnhub`'s.
"""

from __future__ import annotations

import json

import tornado.web
import tornado.websocket
from tornado.ioloop import IOLoop

from tests.fakes.finnhub_fake import FakeConnection, FakeFinnhub


class _AlpacaSocket(tornado.websocket.WebSocketHandler):
    def initialize(self, fake: FakeAlpaca) -> None:
        self.fake = fake
        self.conn: FakeConnection | None = None
        self.authed = False

    def check_origin(self, origin: str) -> bool:
        return True

    def _reply(self, *items: dict) -> None:
        self.write_message(json.dumps(list(items)))

    def open(self, *args, **kwargs) -> None:
        with self.fake._lock:
            self.fake.ws_attempts += 1
            self.conn = FakeConnection(len(self.fake.connections) + 1, handler=self)
            self.fake.connections.append(self.conn)
        self._reply({"T": "success", "msg": "connected"})
        if self.fake.auth_timeout_s is not None:
            IOLoop.current().call_later(self.fake.auth_timeout_s, self._auth_deadline)

    def _auth_deadline(self) -> None:
        if not self.authed and self.ws_connection is not None:
            self._reply({"T": "error", "code": 404, "msg": "auth timeout"})
            self.close()

    def on_message(self, message: str | bytes) -> None:
        try:
            frame = json.loads(message)
        except ValueError:
            frame = {"action": "<not json>"}
        assert self.conn is not None
        with self.fake._lock:
            self.conn.frames.append(frame)
        action = frame.get("action")
        if action == "auth":
            if self.authed:
                self._reply({"T": "error", "code": 403, "msg": "already authenticated"})
            elif (frame.get("key"), frame.get("secret")) == (self.fake.key_id, self.fake.secret):
                self.authed = True
                self._reply({"T": "success", "msg": "authenticated"})
            else:
                with self.fake._lock:
                    self.fake.ws_rejected += 1
                self._reply({"T": "error", "code": 402, "msg": "auth failed"})
                self.close()
        elif action in ("subscribe", "unsubscribe"):
            self._subscription(action, frame.get("trades") or [])

    def _subscription(self, action: str, symbols: list[str]) -> None:
        if not self.authed:
            self._reply({"T": "error", "code": 401, "msg": "not authenticated"})
            return
        with self.fake._lock:
            now = set(self.conn.subscribed)
            if action == "subscribe":
                self.conn.duplicate_subscribes += [s for s in symbols if s in now]
                now |= set(symbols)
            else:
                now -= set(symbols)
            over = len(now) > self.fake.symbol_limit
            if not over:
                self.conn.subscribed = now
            listed = sorted(self.conn.subscribed)
        if over:
            self._reply({"T": "error", "code": 405, "msg": "symbol limit exceeded"})
        else:
            self._reply({"T": "subscription", "trades": listed, "quotes": [], "bars": []})

    def on_close(self) -> None:
        if self.conn is not None:
            self.conn.closed = True


class _SnapshotHandler(tornado.web.RequestHandler):
    def initialize(self, fake: FakeAlpaca) -> None:
        self.fake = fake

    def get(self, symbol: str) -> None:
        fake = self.fake
        with fake._lock:
            fake.rest_requests.append(symbol)
        headers = (self.request.headers.get("APCA-API-KEY-ID"),
                   self.request.headers.get("APCA-API-SECRET-KEY"))
        if headers != (fake.key_id, fake.secret):
            self.set_status(401)
            self.finish({"message": "unauthorized."})
        elif fake.quote_mode == "429":
            self.set_status(429)
            self.finish({"message": "too many requests."})
        elif symbol not in fake.quotes:
            self.set_status(404)
            self.finish({"message": "not found"})
        else:
            self.finish(fake.quotes[symbol])


class _BarsHandler(tornado.web.RequestHandler):
    """``GET /v2/stocks/bars?symbols=&timeframe=1Min&start=&end=``, paged by ``page_size``."""

    def initialize(self, fake: FakeAlpaca) -> None:
        self.fake = fake

    def get(self) -> None:
        fake = self.fake
        symbol = self.get_query_argument("symbols", "")
        with fake._lock:
            fake.bars_requests.append(dict((k, self.get_query_argument(k)) for k in
                                           self.request.query_arguments))
        headers = (self.request.headers.get("APCA-API-KEY-ID"),
                   self.request.headers.get("APCA-API-SECRET-KEY"))
        if headers != (fake.key_id, fake.secret):
            self.set_status(401)
            self.finish({"message": "unauthorized."})
            return
        start, end = self.get_query_argument("start", ""), self.get_query_argument("end", "~")
        rows = [b for b in fake.bars.get(symbol, []) if start <= b["t"] < end]
        offset = int(self.get_query_argument("page_token", "0"))
        page = rows[offset:offset + fake.page_size]
        more = offset + fake.page_size < len(rows)
        self.finish({"bars": {symbol: page} if page else {},
                     "next_page_token": str(offset + fake.page_size) if more else None})


class FakeAlpaca(FakeFinnhub):
    """A fake Alpaca on 127.0.0.1: ``ws_url`` (``/v2/iex``) and ``rest_url``."""

    def __init__(self, key_id: str, secret: str):
        super().__init__(token=secret)
        self.key_id, self.secret = key_id, secret
        self.symbol_limit = 30
        self.auth_timeout_s: float | None = None
        self.bars: dict[str, list[dict]] = {}
        """``/v2/stocks/bars`` per symbol: ``{"t": RFC 3339, "o","h","l","c","v"}``."""
        self.page_size = 10000
        self.bars_requests: list[dict] = []

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v2/iex"

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _routes(self) -> list:
        return [(r"/v2/iex", _AlpacaSocket, {"fake": self}),
                (r"/v2/stocks/([^/]+)/snapshot", _SnapshotHandler, {"fake": self}),
                (r"/v2/stocks/bars", _BarsHandler, {"fake": self})]

    def trades(self, *trades: dict, conn: FakeConnection | None = None) -> None:
        """One frame of ``{"S", "p", "s", "t"}`` trades (``T`` is added)."""
        self.send(json.dumps([{"T": "t", **t} for t in trades]), conn)

    def error(self, code: int, msg: str = "", conn: FakeConnection | None = None) -> None:
        self.send(json.dumps([{"T": "error", "code": code, "msg": msg}]), conn)

    def snapshot(self, symbol: str, prev_close: float, last: float) -> None:
        self.quotes[symbol] = {"symbol": symbol, "latestTrade": {"p": last},
                               "dailyBar": {"o": prev_close, "h": last, "l": prev_close},
                               "prevDailyBar": {"c": prev_close}}

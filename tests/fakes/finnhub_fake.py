"""A local fake of Finnhub for protocol tests: WebSocket trades and REST ``/quote``.

It speaks the real message shapes (see the project's Finnhub notes) on 127.0.0.1
and a free port, from a tornado IOLoop on its own thread, so adapter tests need
no internet and no account. The test drives it: push trades, pings, error frames,
garbage; drop the connection; refuse or stall the handshake; make ``/quote``
answer 429, 500 or hang. It never sends anything unprompted, so a test makes it
"go silent" by simply not pushing.

    with FakeFinnhub(token="k") as fake:
        feed = FinnhubFeed(api_key="k", ws_url=fake.ws_url, rest_url=fake.rest_url)
        ...
        fake.trades({"s": "AAPL", "p": 1.5, "t": 1_700_000_000_000, "v": 10})
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import tornado.web
import tornado.websocket
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from tests.support import wait_until

ZERO_QUOTE = {"c": 0, "d": None, "dp": None, "h": 0, "l": 0, "o": 0, "pc": 0, "t": 0}



@dataclass
class FakeConnection:
    """One accepted WebSocket connection, as the server saw it."""

    id: int
    frames: list[dict] = field(default_factory=list)
    """Every JSON frame the client sent, in order."""
    subscribed: set[str] = field(default_factory=set)
    duplicate_subscribes: list[str] = field(default_factory=list)
    """Symbols subscribed again while already subscribed on this connection."""
    closed: bool = False
    handler: _SocketHandler | None = field(default=None, repr=False)

    def sent(self, kind: str) -> list[str]:
        """Symbols of the client's ``kind`` ("subscribe"/"unsubscribe") frames, in order."""
        return [f.get("symbol") for f in self.frames if f.get("type") == kind]


class _SocketHandler(tornado.websocket.WebSocketHandler):
    """``/?token=KEY``: 401 on a wrong key, then subscribe/unsubscribe frames."""

    def initialize(self, fake: FakeFinnhub) -> None:
        self.fake = fake
        self.conn: FakeConnection | None = None

    def check_origin(self, origin: str) -> bool:
        return True

    async def get(self, *args, **kwargs) -> None:
        with self.fake._lock:
            self.fake.ws_attempts += 1
        if self.get_query_argument("token", "") != self.fake.token:
            with self.fake._lock:
                self.fake.ws_rejected += 1
            self.set_status(401)
            self.finish("Unauthorized")
            return
        if self.fake.ws_refuse_status:
            self.set_status(self.fake.ws_refuse_status)
            self.finish("Service Unavailable")
            return
        if self.fake.ws_hang:
            await asyncio.sleep(self.fake.hang_s)  # never answer the handshake
            return
        await super().get(*args, **kwargs)

    def open(self, *args, **kwargs) -> None:
        with self.fake._lock:
            self.conn = FakeConnection(len(self.fake.connections) + 1, handler=self)
            self.fake.connections.append(self.conn)

    def on_message(self, message: str | bytes) -> None:
        try:
            frame = json.loads(message)
        except ValueError:
            frame = {"type": "<not json>", "raw": str(message)}
        assert self.conn is not None
        with self.fake._lock:
            self.conn.frames.append(frame)
            symbol = frame.get("symbol")
            if frame.get("type") == "subscribe":
                if symbol in self.conn.subscribed:
                    self.conn.duplicate_subscribes.append(symbol)
                self.conn.subscribed.add(symbol)
            elif frame.get("type") == "unsubscribe":
                self.conn.subscribed.discard(symbol)

    def on_close(self) -> None:
        if self.conn is not None:
            self.conn.closed = True


class _QuoteHandler(tornado.web.RequestHandler):
    """``GET /quote?symbol=``: a quote, all zeros if unknown, or the failure asked for."""

    def initialize(self, fake: FakeFinnhub) -> None:
        self.fake = fake

    async def get(self) -> None:
        fake = self.fake
        symbol = self.get_query_argument("symbol", "")
        token = self.get_query_argument("token", "") or self.request.headers.get(
            "X-Finnhub-Token", "")
        with fake._lock:
            fake.rest_requests.append(symbol)
            mode = fake.quote_mode
        if token != fake.token:
            self.set_status(401)
            self.finish({"error": "Invalid API key"})
        elif mode == "429":
            self.set_status(429)
            self.set_header("Content-Type", "text/plain")
            self.finish("API limit reached. Please try again later. Remaining Limit: 0")
        elif mode == "500":
            self.set_status(500)
            self.set_header("Content-Type", "text/plain")
            self.finish("Internal Server Error")
        else:
            if mode == "hang":
                await asyncio.sleep(fake.hang_s)
            self.finish(fake.quotes.get(symbol, ZERO_QUOTE))


class _CandleHandler(tornado.web.RequestHandler):
    """``GET /stock/candle?symbol=&resolution=1&from=&to=``: history, or 403 (free plan)."""

    def initialize(self, fake: FakeFinnhub) -> None:
        self.fake = fake

    async def get(self) -> None:
        fake = self.fake
        symbol = self.get_query_argument("symbol", "")
        token = self.request.headers.get("X-Finnhub-Token", "")
        with fake._lock:
            fake.candle_requests.append(symbol)
        if fake.candle_gate is not None:  # a slow provider: answer when the test says
            await asyncio.to_thread(fake.candle_gate.wait, 60)
        if token != fake.token:
            self.set_status(401)
            self.finish({"error": "Invalid API key"})
        elif fake.candle_mode == "403":
            self.set_status(403)
            self.finish({"error": "You don't have access to this resource."})
        else:
            lo = int(self.get_query_argument("from", "0"))
            hi = int(self.get_query_argument("to", str(2**40)))
            rows = [c for c in fake.candles.get(symbol, []) if lo <= c["t"] <= hi]
            if not rows:
                self.finish({"s": "no_data"})
                return
            self.finish({"s": "ok", **{k: [c[k] for c in rows] for k in "tohlcv"}})


class FakeFinnhub:
    """A fake Finnhub on 127.0.0.1: ``ws_url`` for trades, ``rest_url`` for ``/quote``."""

    def __init__(self, token: str = "sk-test-SECRET-123"):
        self.token = token
        self.port = 0
        self.ws_attempts = 0
        """Upgrade requests received, accepted or refused."""
        self.ws_rejected = 0
        self.connections: list[FakeConnection] = []
        self.quotes: dict[str, dict] = {}
        self.quote_mode = "ok"
        """How ``/quote`` answers: "ok", "429", "500" or "hang" (for ``hang_s``)."""
        self.hang_s = 30.0
        self.ws_refuse_status: int | None = None
        """Answer upgrades with this HTTP status (e.g. 503) while set."""
        self.ws_hang = False
        """Accept TCP but never answer the WebSocket handshake while set."""
        self.rest_requests: list[str] = []
        self.candles: dict[str, list[dict]] = {}
        """``/stock/candle`` rows per symbol: ``{"t","o","h","l","c","v"}``."""
        self.candle_mode = "ok"
        self.candle_gate: threading.Event | None = None
        """If set, ``/stock/candle`` answers only once it is set (a slow backfill)."""
        """"ok", or "403" as a free key gets."""
        self.candle_requests: list[str] = []
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._done: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------
    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1"

    def start(self) -> FakeFinnhub:
        self._thread = threading.Thread(target=asyncio.run, args=(self._serve(),),
                                        name="fake-finnhub", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("fake Finnhub did not start")
        return self

    def close(self) -> None:
        if self._loop is not None and self._done is not None:
            self._loop.call_soon_threadsafe(self._done.set)
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def __enter__(self) -> FakeFinnhub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._done = asyncio.Event()
        app = tornado.web.Application(
            self._routes(),
            log_function=lambda handler: None,  # access logs would print ?token=
        )
        sockets = bind_sockets(0, "127.0.0.1")
        self.port = sockets[0].getsockname()[1]
        server = HTTPServer(app)
        server.add_sockets(sockets)
        self._ready.set()
        await self._done.wait()
        server.stop()
        for conn in list(self.connections):
            if conn.handler is not None and not conn.closed:
                conn.handler.close()
        await server.close_all_connections()

    def _routes(self) -> list:
        return [(r"/", _SocketHandler, {"fake": self}),
                (r"/api/v1/+quote", _QuoteHandler, {"fake": self}),
                (r"/api/v1/+stock/candle", _CandleHandler, {"fake": self})]

    def _on_loop(self, fn: Callable[[], object]) -> object:
        """Run ``fn`` (maybe async) on the server's loop and wait for its result."""
        async def call():
            result = fn()
            if asyncio.isfuture(result) or asyncio.iscoroutine(result):
                result = await result
            return result
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(call(), self._loop).result(10)

    # -- what the client did -------------------------------------------
    @property
    def open_connections(self) -> list[FakeConnection]:
        with self._lock:
            return [c for c in self.connections if not c.closed]

    @property
    def current(self) -> FakeConnection | None:
        """The newest open connection, if any."""
        conns = self.open_connections
        return conns[-1] if conns else None

    def wait_connection(self, n: int = 1, timeout: float = 10.0) -> FakeConnection:
        """Wait for the ``n``-th accepted connection to be open; return it."""
        def nth():
            with self._lock:
                if len(self.connections) >= n and not self.connections[n - 1].closed:
                    return self.connections[n - 1]
            return None
        return wait_until(nth, timeout, what=f"connection #{n}")

    # -- pushing to the client -------------------------------------------
    def send(self, message: dict | str, conn: FakeConnection | None = None) -> None:
        """Send a frame (a dict as JSON, a str as is) on ``conn`` (default: newest)."""
        conn = conn or self.current
        if conn is None or conn.handler is None:
            raise AssertionError("no open connection to send on")
        text = message if isinstance(message, str) else json.dumps(message)
        handler = conn.handler
        self._on_loop(lambda: handler.write_message(text))

    def trades(self, *trades: dict, conn: FakeConnection | None = None) -> None:
        """One batched trade message: ``{"s", "p", "t" (ms), "v", "c"}`` entries."""
        self.send({"type": "trade", "data": list(trades)}, conn)

    def ping(self, conn: FakeConnection | None = None) -> None:
        self.send({"type": "ping"}, conn)

    def error(self, msg: str, conn: FakeConnection | None = None) -> None:
        self.send({"type": "error", "msg": msg}, conn)

    def drop(self, conn: FakeConnection | None = None, clean: bool = False) -> None:
        """End the connection: abruptly (TCP close, no close frame) or with close 1001."""
        conn = conn or self.current
        if conn is None or conn.handler is None:
            raise AssertionError("no open connection to drop")
        handler = conn.handler
        if clean:
            self._on_loop(lambda: handler.close(1001, "going away"))
        else:
            self._on_loop(lambda: handler.ws_connection.stream.close())

"""The Alpaca protocol: market-data v2 trades over WebSocket, snapshots over REST.

Keys are not in the URL: after the server's ``connected`` frame the client sends
``{"action":"auth",...}``, and only the ``authenticated`` frame makes the connection
usable. Frames are JSON arrays of ``{"T": ...}`` objects; one subscribe frame lists
every symbol; times are RFC 3339 strings. Errors come in-band with a code, some
closing the socket and some not. Reconnects, the watchdog, the symbol cap, dedup
and redaction are :class:`~app.feeds.streaming.StreamingFeed`'s.

websocket-client rather than alpaca-py: alpaca-py's ``StockDataStream`` owns an
asyncio loop and reconnects on its own schedule, which would hide the states the
page shows and bypass the shared backoff and watchdog.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime

import param
import requests

from app.config import Secret, Settings
from app.feeds.mock import UNIVERSE
from app.feeds.restkit import (
    AuthRejected,
    ReferenceClient,
    RestError,
    UpstreamRateLimited,
    redact,
)
from app.feeds.streaming import Conn, StreamingFeed
from app.ticks import FeedState, Reference, SymbolInfo, Tick

log = logging.getLogger(__name__)

AUTH_FAILED = "authentication failed: check ALPACA_API_KEY_ID and ALPACA_API_SECRET_KEY"
NO_KEY = "ALPACA_API_KEY_ID and ALPACA_API_SECRET_KEY are not both set"

#: Error code -> (what to do, page text). "refuse": end the connection and wait
#: ``auth_retry_s`` (a quick retry cannot help); "drop": reconnect with backoff;
#: "note": the socket stays usable, show the text.
ERRORS: dict[int, tuple[str, FeedState | None, str]] = {
    401: ("drop", None, "not authenticated"),
    402: ("refuse", FeedState.AUTH_FAILED, AUTH_FAILED),
    403: ("note", None, "already authenticated"),
    404: ("drop", None, "authentication timed out"),
    405: ("note", None, "symbol limit exceeded"),
    406: ("refuse", FeedState.DOWN,
          "connection limit exceeded: another client is using these keys"),
    407: ("drop", None, "slow client: the server dropped us for not reading fast enough"),
    409: ("refuse", FeedState.AUTH_FAILED,
          "insufficient subscription: the plan does not include this feed (ALPACA_WS_URL)"),
}


def parse_time(text: object) -> float:
    """Unix seconds from an RFC 3339 time (``Z``, up to nanoseconds)."""
    if not isinstance(text, str):
        raise ValueError("time is not a string")
    head, dot, frac = text.removesuffix("Z").partition(".")
    if dot:
        frac = frac[:6]  # datetime keeps microseconds
    stamp = datetime.fromisoformat(f"{head}{dot}{frac}+00:00")
    return stamp.timestamp()


def parse_trade(item: dict) -> Tick | None:
    """A :class:`Tick` from a ``{"T":"t"}`` object; None if it is unusable."""
    try:
        symbol, price = item["S"], float(item["p"])
        size, ts = float(item.get("s") or 0.0), parse_time(item["t"])
    except (KeyError, TypeError, ValueError):
        return None
    if not (isinstance(symbol, str) and symbol and math.isfinite(price) and price > 0
            and math.isfinite(size) and size >= 0):
        return None
    return Tick(symbol, price, size, ts)


def parse_snapshot(symbol: str, data: object) -> Reference | None:
    """A :class:`Reference` from ``/v2/stocks/{symbol}/snapshot``: the previous daily
    close, and the day so far from the daily bar (its range and volume)."""
    if not isinstance(data, dict):
        raise RestError(f"snapshot {symbol}: unexpected answer from Alpaca")

    def bar(name: str, key: str) -> float | None:
        value = (data.get(name) or {}).get(key)
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return float(value) if ok and math.isfinite(value) and value > 0 else None

    prev_close = bar("prevDailyBar", "c")
    if prev_close is None:
        return None
    return Reference(symbol, prev_close=prev_close, open=bar("dailyBar", "o"),
                     high=bar("dailyBar", "h"), low=bar("dailyBar", "l"),
                     last=bar("latestTrade", "p"), volume=bar("dailyBar", "v"))


class SnapshotClient(ReferenceClient):
    """Alpaca's snapshot endpoint with the key pair in headers."""

    def __init__(self, key_id: str, secret: str, base_url: str, **kwargs):
        super().__init__(base_url, **kwargs)
        self._secrets = (key_id, secret)
        self._session = requests.Session()
        self._session.headers.update({"APCA-API-KEY-ID": key_id,
                                      "APCA-API-SECRET-KEY": secret})

    def _lookup(self, symbol: str) -> Reference | None:
        url = f"{self.base_url}/v2/stocks/{symbol}/snapshot"
        try:
            answer = self._session.get(url, timeout=self.timeout_s)
        except requests.Timeout:
            raise RestError(f"snapshot {symbol}: timed out after {self.timeout_s:g}s") from None
        except requests.RequestException as e:
            detail = redact(str(e), *self._secrets)[:200]
            raise RestError(f"snapshot {symbol}: {type(e).__name__}: {detail}") from None
        status = answer.status_code
        if status == 429:
            raise UpstreamRateLimited("Alpaca REST rate limit reached (HTTP 429)")
        if status in (401, 403):
            raise AuthRejected(f"snapshot {symbol}: Alpaca answered HTTP {status}")
        if status == 404 or status == 422:
            return None  # unknown symbol
        if status != 200:
            raise RestError(f"snapshot {symbol}: Alpaca answered HTTP {status}")
        try:
            return parse_snapshot(symbol, answer.json())
        except ValueError:
            raise RestError(f"snapshot {symbol}: unexpected answer from Alpaca") from None


class AlpacaFeed(StreamingFeed):
    """Alpaca real-time trades (WebSocket) and reference prices (REST snapshots)."""

    feed_type = "alpaca"
    label = "Alpaca"
    auth_failed_text = AUTH_FAILED
    no_key_text = NO_KEY

    ws_url = param.String(default="wss://stream.data.alpaca.markets/v2/iex",
                          doc="WebSocket endpoint (iex free, sip paid).")
    rest_url = param.String(default="https://data.alpaca.markets", doc="REST base URL.")
    max_symbols = param.Integer(default=30, bounds=(1, None),
                                doc="Trade subscriptions allowed (IEX free plan: 30).")
    rest_per_minute = param.Number(default=200, bounds=(0.01, None),
                                   doc="Client-side REST call budget (free plan: 200/min).")

    def __init__(self, key_id: Secret | str = "", secret_key: Secret | str = "", **params):
        self._key_id = key_id if isinstance(key_id, Secret) else Secret(key_id)
        self._secret = secret_key if isinstance(secret_key, Secret) else Secret(secret_key)
        super().__init__(**params)

    @classmethod
    def from_settings(cls, settings: Settings) -> AlpacaFeed:
        return cls(key_id=settings.alpaca_key_id, secret_key=settings.alpaca_secret_key,
                   ws_url=settings.alpaca_ws_url, rest_url=settings.alpaca_rest_url)

    def _secrets(self) -> list[str]:
        return [self._key_id.reveal(), self._secret.reveal()]

    def _make_rest(self) -> ReferenceClient:
        return SnapshotClient(*self._secrets(), self.rest_url, timeout_s=self.rest_timeout_s,
                              per_minute=self.rest_per_minute, cache_ttl_s=self.reference_ttl_s)

    def _on_opened(self, conn: Conn) -> None:
        """Wait for the server's ``connected``: auth is sent in :meth:`_on_control`."""

    def _frames(self, kind: str, symbols: list[str]) -> list[dict]:
        return [{"action": kind, "trades": symbols}]

    def _handle(self, conn: Conn, msg: object) -> None:
        if not isinstance(msg, list):
            self._malformed()
            return
        ticks: list[Tick] = []
        bad = 0
        for item in msg:
            kind = item.get("T") if isinstance(item, dict) else None
            if kind == "t":
                tick = parse_trade(item)
                if tick is None:
                    bad += 1
                else:
                    ticks.append(tick)
            elif kind in ("success", "error", "subscription"):
                self._on_control(conn, kind, item)
            elif kind in ("q", "b", "d", "u", "c", "s", "l"):
                pass  # quotes, bars, corrections...: not asked for, harmless
            elif isinstance(item, dict):
                self.unknown_count += 1
            else:
                bad += 1
        self._deliver(ticks, bad)

    def _on_control(self, conn: Conn, kind: str, item: dict) -> None:
        if kind == "success" and item.get("msg") == "connected":
            key_id, secret = self._secrets()
            self._send_frame(conn, {"action": "auth", "key": key_id, "secret": secret})
        elif kind == "success" and item.get("msg") == "authenticated":
            self._ready(conn)
        elif kind == "subscription":
            log.debug("alpaca: subscribed trades %s", item.get("trades"))
        elif kind == "error":
            self._on_error_code(conn, item.get("code"), str(item.get("msg") or ""))

    def _on_error_code(self, conn: Conn, code: object, msg: str) -> None:
        action, state, text = ERRORS.get(code, ("note", None, msg or "unspecified error"))
        text = f"{text} ({code})" if code else text
        if action == "refuse":
            log.warning("alpaca: %s", text)
            self._refuse(conn, state, text)
        elif action == "drop":
            self._drop(conn, f"Alpaca: {text}")
        else:
            self._upstream_error(text)

    def universe(self) -> list[SymbolInfo]:
        return [SymbolInfo(i.symbol, i.name) for i in UNIVERSE]

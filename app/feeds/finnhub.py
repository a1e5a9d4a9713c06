"""The Finnhub protocol: trades over WebSocket, reference prices over REST ``/quote``.

The key travels in the WebSocket URL (``?token=``), so that URL is never logged.
One JSON frame per symbol to subscribe; trades arrive batched in ``{"type":"trade"}``
with times in milliseconds; errors keep the socket open; a wrong key fails the HTTP
upgrade with 401. Reconnects, the watchdog, the symbol cap, dedup and redaction are
:class:`~app.feeds.streaming.StreamingFeed`'s.
"""

from __future__ import annotations

import logging
import math

import param

from app.config import Secret, Settings
from app.feeds.finnhub_rest import QuoteClient
from app.feeds.mock import UNIVERSE
from app.feeds.restkit import ReferenceClient
from app.feeds.streaming import Conn, RecentTrades, StreamingFeed
from app.ticks import SymbolInfo, Tick

__all__ = ["AUTH_FAILED", "NO_KEY", "FinnhubFeed", "RecentTrades", "parse_trades"]

log = logging.getLogger(__name__)

AUTH_FAILED = "authentication failed: check FINNHUB_API_KEY"
NO_KEY = "FINNHUB_API_KEY is not set"


# -- parsing --------------------------------------------------------------------
def parse_trades(data: object) -> tuple[list[Tick], int]:
    """Ticks from a trade message's ``data`` list, and how many entries were unusable."""
    if not isinstance(data, list):
        return [], 1
    ticks: list[Tick] = []
    bad = 0
    for item in data:
        try:
            symbol = item["s"]
            price = float(item["p"])
            ts = float(item["t"]) / 1000.0  # Finnhub sends milliseconds
            size = float(item.get("v") or 0.0)  # FX/crypto venues may send 0 or nothing
        except (KeyError, TypeError, ValueError, AttributeError):
            bad += 1
            continue
        if not (isinstance(symbol, str) and symbol and math.isfinite(price) and price > 0
                and math.isfinite(ts) and ts > 0 and math.isfinite(size) and size >= 0):
            bad += 1
            continue
        ticks.append(Tick(symbol, price, size, ts))
    return ticks, bad


class FinnhubFeed(StreamingFeed):
    """Finnhub real-time trades (WebSocket) and reference prices (REST ``/quote``)."""

    feed_type = "finnhub"
    label = "Finnhub"
    auth_failed_text = AUTH_FAILED
    no_key_text = NO_KEY

    ws_url = param.String(default="wss://ws.finnhub.io", doc="WebSocket endpoint, no token.")
    rest_url = param.String(default="https://finnhub.io/api/v1", doc="REST base URL.")
    max_symbols = param.Integer(default=50, bounds=(1, None),
                                doc="Symbols per connection the plan allows (free: 50).")
    rest_per_minute = param.Number(default=60, bounds=(0.01, None),
                                   doc="Client-side REST call budget (free plan: 60/min).")

    def __init__(self, api_key: Secret | str = "", **params):
        self._key = api_key if isinstance(api_key, Secret) else Secret(api_key)
        super().__init__(**params)

    @classmethod
    def from_settings(cls, settings: Settings) -> FinnhubFeed:
        return cls(api_key=settings.finnhub_api_key, ws_url=settings.finnhub_ws_url,
                   rest_url=settings.finnhub_rest_url,
                   max_symbols=settings.finnhub_max_symbols)

    def _secrets(self) -> list[str]:
        return [self._key.reveal()]

    def _make_rest(self) -> ReferenceClient:
        return QuoteClient(self._key.reveal(), self.rest_url, timeout_s=self.rest_timeout_s,
                           per_minute=self.rest_per_minute, cache_ttl_s=self.reference_ttl_s)

    def _connect_url(self) -> str:
        sep = "&" if "?" in self.ws_url else "?"
        return f"{self.ws_url}{sep}token={self._key.reveal()}"

    def _frames(self, kind: str, symbols: list[str]) -> list[dict]:
        return [{"type": kind, "symbol": sym} for sym in symbols]

    def _handle(self, conn: Conn, msg: object) -> None:
        kind = msg.get("type") if isinstance(msg, dict) else None
        if kind == "trade":
            self._deliver(*parse_trades(msg.get("data")))
        elif kind == "ping":
            pass
        elif kind == "error":
            self._upstream_error(str(msg.get("msg") or "unspecified error"))
        elif isinstance(msg, dict):
            self.unknown_count += 1
            log.debug("finnhub: ignored a message of type %r", str(kind)[:40])
        else:
            self._malformed()

    def universe(self) -> list[SymbolInfo]:
        return [SymbolInfo(i.symbol, i.name) for i in UNIVERSE]

"""Plain values every part of Photon passes around: a trade, reference prices, a
symbol on offer, a feed's state.

The lowest floor of the house: it imports nothing of Photon, so feeds, the hub,
the relay, lanes and views can all speak in these types without depending on
each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Tick:
    """One trade (or price update) as the upstream reported it."""

    symbol: str
    price: float
    size: float
    ts: float
    """Exchange time of the trade, Unix seconds."""


@dataclass(frozen=True, slots=True)
class Reference:
    """Reference prices for a symbol: what the change is measured against."""

    symbol: str
    prev_close: float
    open: float | None = None
    high: float | None = None
    low: float | None = None
    last: float | None = None
    volume: float | None = None
    """The day's volume so far, where the provider tells it (Alpaca's daily bar)."""


@dataclass(frozen=True, slots=True)
class SymbolInfo:
    """A symbol the feed can offer in the ticker picker."""

    symbol: str
    name: str


class FeedState(StrEnum):
    """Health of a feed's upstream connection, as shown to viewers and operators."""

    CONNECTING = "connecting"
    LIVE = "live"
    STALE = "stale"
    MARKET_CLOSED = "market_closed"
    AUTH_FAILED = "auth_failed"
    RATE_LIMITED = "rate_limited"
    DOWN = "down"
    RELAY_DOWN = "relay_down"
    """Behind a relay (PHOTON_REDIS_URL): no relay has published for a while."""
    STOPPED = "stopped"

"""What the relay and the server processes say to each other through Redis.

One place for the key names and the message formats, as pure functions, so the
relay (:mod:`app.relay.publisher`) and the server side (:mod:`app.feeds.redis_feed`) cannot
drift apart.

Layout (prefix ``photon:``):

* ``t:SYM``: a pub/sub channel per symbol. Each message is one batch of that
  symbol's trades, ``{"at": publication time, "ticks": [[price, size, ts], ...]}``.
  A server subscribes to exactly the symbols its sessions watch, so it never
  receives, parses or filters a trade nobody on it wants; per-symbol channels keep
  each symbol's trades in order, which is the only order the board needs.
* ``q:SYM``: a hash with the symbol's last quote and reference prices, so a server
  that starts late, or a symbol newly watched, shows a price at once (pub/sub has
  no history).
* ``feed``: a hash with the upstream's name, label, state, error and the relay's
  heartbeat time ``beat``; a server says "relay down" when ``beat`` gets old.
* ``want:PROC``: a set per server process with the symbols its sessions watch,
  expiring unless the process refreshes it (heartbeat); ``procs`` is a sorted set
  of process ids by last heartbeat, and ``interest`` a channel that wakes the relay
  when a set changes.
* ``universe``: the upstream's symbols for the picker (JSON), set by the relay.
* ``relay:lock``: held by the one relay that talks to the upstream.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit, urlunsplit

from app.ticks import Reference, Tick

PREFIX = "photon:"
FEED_KEY = PREFIX + "feed"
UNIVERSE_KEY = PREFIX + "universe"
PROCS_KEY = PREFIX + "procs"
INTEREST_CHANNEL = PREFIX + "interest"
LOCK_KEY = PREFIX + "relay:lock"

#: A server's declaration of what it watches lives this long without a heartbeat.
WANT_TTL_S = 10.0
#: How often a server refreshes its declaration, and the relay its heartbeat.
HEARTBEAT_S = 0.5


def tick_channel(symbol: str) -> str:
    return f"{PREFIX}t:{symbol}"


def symbol_of_channel(channel: str | bytes) -> str:
    text = channel.decode() if isinstance(channel, bytes) else channel
    return text[len(PREFIX) + 2:]


def quote_key(symbol: str) -> str:
    return f"{PREFIX}q:{symbol}"


def want_key(proc: str) -> str:
    return f"{PREFIX}want:{proc}"


def encode_ticks(ticks: Iterable[Tick], at: float) -> str:
    """One symbol's batch of trades as a channel message."""
    return json.dumps({"at": round(at, 6), "ticks": [[t.price, t.size, t.ts] for t in ticks]},
                      separators=(",", ":"))


def decode_ticks(symbol: str, message: str | bytes) -> tuple[float, list[Tick]]:
    """(publication time, trades) of a channel message; malformed entries are dropped."""
    data = json.loads(message)
    ticks = []
    for entry in data.get("ticks", ()):
        try:
            price, size, ts = (float(x) for x in entry)
        except (TypeError, ValueError):
            continue
        if math.isfinite(price) and math.isfinite(ts):
            ticks.append(Tick(symbol, price, size, ts))
    return float(data.get("at", 0.0)), ticks


#: Fields of a ``q:SYM`` hash.
QUOTE_FIELDS = ("prev_close", "open", "high", "low", "last", "volume", "ts")


def encode_quote(values: Mapping[str, float | None]) -> dict[str, str]:
    """A quote snapshot as hash fields (unknown values left out)."""
    return {k: repr(float(v)) for k, v in values.items() if k in QUOTE_FIELDS and v is not None}


def decode_reference(symbol: str, fields: Mapping[bytes | str, bytes | str]) -> Reference | None:
    """The reference a late joiner starts from; None until the previous close is known."""
    values: dict[str, float] = {}
    for k, v in fields.items():
        key = k.decode() if isinstance(k, bytes) else k
        try:
            values[key] = float(v)
        except (TypeError, ValueError):
            continue
    if "prev_close" not in values:
        return None
    return Reference(symbol, prev_close=values["prev_close"], open=values.get("open"),
                     high=values.get("high"), low=values.get("low"), last=values.get("last"))


def redact_url(url: str) -> str:
    """``url`` with any password replaced, for log lines and error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def ping(url: str, timeout_s: float = 3.0) -> str | None:
    """None if Redis at ``url`` answers; else one line saying what went wrong."""
    import redis

    shown = redact_url(url)
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout_s,
                                      socket_timeout=timeout_s)
        try:
            client.ping()
        finally:
            client.close()
    except (redis.RedisError, OSError, ValueError) as exc:
        return f"{shown}: cannot reach Redis ({str(exc).strip().rstrip('.') or type(exc).__name__})"
    return None

"""Recent bars in Redis, so servers on other hosts show the relay's history.

The relay is the one writer of the SQLite file on its host; servers elsewhere have
no file to read. The relay's writer therefore also puts each bar it wrote into a
sorted set per symbol (``photon:bars:SYM``, score = bar start, trimmed to the last
``KEEP_S``), and a server's history reads that when its own file has nothing. No
second database server to run: the Redis the relay already uses.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable

import redis

from app.history.bars import Bar

log = logging.getLogger(__name__)

KEY_PREFIX = "photon:bars:"
#: Bars kept in Redis per symbol: five days covers every range the chart offers.
KEEP_S = 5 * 86400


def bars_key(symbol: str) -> str:
    return KEY_PREFIX + symbol


def encode_bar(bar: Bar) -> str:
    return json.dumps([bar.t, bar.o, bar.h, bar.l, bar.c, bar.v], separators=(",", ":"))


def decode_bar(raw: bytes | str) -> Bar | None:
    """A bar from its Redis member; None for anything malformed (trust nothing)."""
    try:
        t, o, h, lo, c, v = json.loads(raw)
        bar = Bar(int(t), float(o), float(h), float(lo), float(c), float(v))
    except (ValueError, TypeError):
        return None
    return bar if min(bar.o, bar.h, bar.l, bar.c) > 0 and bar.v >= 0 else None


class SharedBars:
    """The relay's recent bars in Redis: written by the relay, read by servers."""

    def __init__(self, url: str, *, clock=time.time):
        self._client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._clock = clock

    def publish(self, bars: Iterable[tuple[str, Bar]]) -> None:
        """Replace each (symbol, bar) in Redis, and trim what is older than ``KEEP_S``."""
        pipe = self._client.pipeline(transaction=False)
        symbols = set()
        for sym, bar in bars:
            key = bars_key(sym)
            pipe.zremrangebyscore(key, bar.t, bar.t)
            pipe.zadd(key, {encode_bar(bar): bar.t})
            symbols.add(sym)
        cutoff = self._clock() - KEEP_S
        for sym in symbols:
            pipe.zremrangebyscore(bars_key(sym), "-inf", f"({cutoff}")
        try:
            pipe.execute()
        except redis.RedisError as exc:  # Redis down: the file still has them
            log.debug("history: publishing bars to Redis failed: %r", exc)

    def bars(self, symbol: str, start: int | None = None, end: int | None = None) -> list[Bar]:
        lo = "-inf" if start is None else start
        hi = "+inf" if end is None else f"({end}"
        try:
            raw = self._client.zrangebyscore(bars_key(symbol), lo, hi)
        except redis.RedisError:
            return []
        return [b for r in raw if (b := decode_bar(r)) is not None]

    def latest(self, symbol: str) -> int | None:
        try:
            got = self._client.zrange(bars_key(symbol), -1, -1, withscores=True)
        except redis.RedisError:
            return None
        return int(got[0][1]) if got else None

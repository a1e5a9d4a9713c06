"""The relay as a feed: a server process reads ticks from Redis instead of an upstream.

With ``PHOTON_REDIS_URL`` set, this is the hub's feed. It declares the symbols
this process's sessions watch (a set in Redis with an expiry, refreshed as a
heartbeat), subscribes to exactly those symbols' channels, and takes the upstream's
state from the relay's heartbeat; when that heartbeat gets old it says "relay down".
The hub above it does not know Redis is there. Formats: :mod:`app.feeds.redis_formats`.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from typing import TYPE_CHECKING

import redis

from app.feeds import redis_formats as bus
from app.feeds import redis_url
from app.feeds.backoff import full_jitter
from app.feeds.base import Feed
from app.runtime import logs, metrics
from app.runtime.process import PROCESS_ID  # the id /health shows, so an operator can match them
from app.ticks import FeedState, Reference, SymbolInfo

if TYPE_CHECKING:
    from app.config import Settings

log = logging.getLogger(__name__)
#: One line per kind of malformed input per 10 s, however many arrive.
_malformed_log = logs.RateLimitedLog(log, 10.0)


class RedisFeed(Feed):
    """Ticks, quotes and feed state from the relay, through Redis."""

    feed_type = "relay"
    label = "Relay"

    def __init__(self, url: str, *, relay_down_after_s: float = 2.0,
                 reference_wait_s: float = 5.0, proc_id: str | None = None, **params):
        super().__init__(**params)
        self.url = url
        for secret in redis_url.url_secrets(url):  # masked in every log line from now on
            logs.protect(secret)
        self.relay_down_after_s = relay_down_after_s
        self.reference_wait_s = reference_wait_s
        self.proc_id = proc_id or uuid.uuid4().hex[:12]
        self._upstream = ""
        self.label = "Relay"
        self.open_universe = True  # until the relay says which symbols its upstream has
        self.relay_delay_s: float | None = None
        """Publication in the relay to receipt here, of the last batch (seconds)."""
        self._universe: list[SymbolInfo] = []
        self._notes: dict[str, str] = {}
        self._client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=3)
        self._wake = threading.Event()
        #: Malformed input dropped so far, by source (``ticks``, ``feed``, ...).
        self.malformed: dict[str, int] = {}
        self._bad_universe: bytes | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> RedisFeed:
        # The relay beats every HEARTBEAT_S whatever its cadence: four missed beats
        # mean it is gone.
        return cls(settings.redis_url or "", relay_down_after_s=4 * bus.HEARTBEAT_S,
                   proc_id=PROCESS_ID)

    def __repr__(self) -> str:
        return f"RedisFeed(url={redis_url.redact_url(self.url)!r}, proc={self.proc_id!r})"

    @property
    def upstream(self) -> str:
        """The relay's upstream feed (``mock``, ``finnhub``, ...); "" until it says."""
        return self._upstream

    # -- what the hub asks ------------------------------------------------
    def universe(self) -> list[SymbolInfo]:
        """The relay's upstream symbols; read now if the loop has not read them yet (a
        session opened just after the relay started). Empty while no relay has said."""
        if not self._universe:
            with contextlib.suppress(redis.RedisError):
                self._load_universe()
        return list(self._universe)

    def unavailable(self) -> dict[str, str]:
        wanted = self.symbols
        return {s: why for s, why in self._notes.items() if s in wanted}

    def reference(self, symbol: str) -> Reference | None:
        """The last quote and previous close the relay keeps; waits a little for a
        symbol the relay has only just been asked for."""
        deadline = time.monotonic() + self.reference_wait_s
        while not self._stop.is_set():
            try:
                ref = bus.decode_reference(symbol, self._client.hgetall(bus.quote_key(symbol)))
            except (bus.Malformed, redis.ResponseError) as exc:  # ResponseError: not a hash
                self._malformed("quote", bus.quote_key(symbol), exc)
                return None
            except redis.RedisError:
                ref = None
            if ref is not None or time.monotonic() >= deadline:
                return ref
            self._stop.wait(0.1)
        return None

    def _send_subscribe(self, symbols: list[str]) -> None:
        self._wake.set()  # the loop's thread owns the pub/sub connection

    def _send_unsubscribe(self, symbols: list[str]) -> None:
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._wake.set()
        super().stop(timeout)
        try:  # leave at once rather than when the declaration expires
            self._client.delete(bus.want_key(self.proc_id))
            self._client.publish(bus.INTEREST_CHANNEL, self.proc_id)
        except redis.RedisError:
            pass

    # -- the loop (feed thread) ------------------------------------------
    def _run(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            try:
                self._serve()
            except (redis.RedisError, OSError) as exc:
                delay = full_jitter(attempt, base=0.5, cap=10.0)
                attempt += 1
                self.reconnects += 1
                self.state = FeedState.DOWN
                shown = redis_url.redact_url(self.url)
                self.last_error = (
                    f"Redis refused a command at {shown} ({logs.redact(str(exc))[:120]}); "
                    "retrying" if isinstance(exc, redis.ResponseError) else
                    f"Redis unreachable at {shown} ({type(exc).__name__}); retrying")
                log.warning("redis_error url=%s error=%r retry_in=%.1fs", shown,
                            logs.redact(str(exc))[:200], delay)
                self.retry_at = time.time() + delay
                self._stop.wait(delay)
                self.retry_at = None
            else:
                attempt = 0

    def _serve(self) -> None:
        """One connection: subscribe, declare, read, until stopped or Redis fails."""
        self._client.ping()
        pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        subscribed: frozenset[str] = frozenset()
        next_beat = next_state = 0.0
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                wanted = self.symbols
                if wanted != subscribed:
                    if add := wanted - subscribed:
                        pubsub.subscribe(*(bus.tick_channel(s) for s in add))
                    if drop := subscribed - wanted:
                        pubsub.unsubscribe(*(bus.tick_channel(s) for s in drop))
                    subscribed = wanted
                    next_beat = 0.0  # declare now, and wake the relay
                if now >= next_beat:
                    self._declare(wanted, changed=next_beat == 0.0)
                    next_beat = now + bus.HEARTBEAT_S
                if now >= next_state:
                    self._read_relay_state()
                    next_state = now + 0.25
                self._read_ticks(pubsub)
        finally:
            pubsub.close()

    def _read_ticks(self, pubsub: redis.client.PubSub) -> None:
        if not pubsub.subscribed:
            self._wake.wait(0.05)
            self._wake.clear()
            return
        msg = pubsub.get_message(timeout=0.05)
        while msg is not None:
            if msg.get("type") == "message":
                channel = msg["channel"]
                try:
                    symbol = bus.symbol_of_channel(channel)
                    at, ticks = bus.decode_ticks(symbol, msg["data"])
                except bus.Malformed as exc:
                    self._malformed("ticks", channel, exc)
                else:
                    self.relay_delay_s = time.time() - at
                    self._emit(ticks)
            msg = pubsub.get_message(timeout=0)

    def _declare(self, wanted: frozenset[str], changed: bool) -> None:
        """Say (again) which symbols this process watches; the relay streams the union.

        At most :data:`~app.feeds.redis_formats.MAX_DECLARED` (the relay refuses a
        bigger set whole): the first ones in order, and a log line says so.
        """
        key = bus.want_key(self.proc_id)
        if len(wanted) > bus.MAX_DECLARED:
            _malformed_log.warning("declare", "declared_over_cap symbols=%d cap=%d: the "
                                   "relay streams the first %d", len(wanted), bus.MAX_DECLARED,
                                   bus.MAX_DECLARED)
            wanted = frozenset(sorted(wanted)[:bus.MAX_DECLARED])
        pipe = self._client.pipeline(transaction=True)
        pipe.delete(key)
        if wanted:
            pipe.sadd(key, *wanted)
            pipe.expire(key, int(bus.WANT_TTL_S))
        pipe.zadd(bus.PROCS_KEY, {self.proc_id: time.time()})
        if changed:
            pipe.publish(bus.INTEREST_CHANNEL, self.proc_id)
        pipe.execute()

    def _read_relay_state(self) -> None:
        """Take the upstream's state from the relay's heartbeat, or say the relay is down."""
        if not self._universe:
            self._load_universe()
        try:
            status = bus.decode_feed(self._client.hgetall(bus.FEED_KEY))
        except (bus.Malformed, redis.ResponseError) as exc:  # ResponseError: not a hash
            self._malformed("feed", bus.FEED_KEY, exc)
            # Whatever the relay meant, nothing here can be believed: not "live".
            self._relay_down(f"relay down: its state in Redis is unreadable ({exc})")
            return
        if status is None:
            self._relay_down("relay down: no relay has published yet")
            return
        self._upstream = status.feed
        self.label = f"{status.label or status.feed or 'Relay'} via relay"
        age = time.time() - status.beat
        if age > self.relay_down_after_s:
            self._relay_down(f"relay down: no relay has published for {age:.0f} s")
            return
        self.state = status.state
        self.last_error = status.last_error
        self.retry_at = status.retry_at
        if status.msg_at:
            self.last_message_mono = time.monotonic() - (time.time() - status.msg_at)
        self._notes = status.notes

    def _relay_down(self, why: str) -> None:
        self.state = FeedState.RELAY_DOWN
        self.last_error = why
        self.retry_at = None

    def _load_universe(self) -> None:
        try:
            raw = self._client.get(bus.UNIVERSE_KEY)
        except redis.ResponseError as exc:  # not a string
            raw = b"<wrong type>"
            if raw != self._bad_universe:
                self._bad_universe = raw
                self._malformed("universe", bus.UNIVERSE_KEY, exc)
            return
        if not raw or raw == self._bad_universe:
            return  # counted once, not on every read of the same bad value
        try:
            self.open_universe, self._universe = bus.decode_universe(raw)
        except bus.Malformed as exc:
            self._bad_universe = raw
            self._malformed("universe", bus.UNIVERSE_KEY, exc)

    def _malformed(self, source: str, key: str | bytes, exc: Exception) -> None:
        """Drop, count and log (at a bounded rate) input that broke its schema."""
        self.malformed[source] = self.malformed.get(source, 0) + 1
        metrics.observe_malformed(source)
        shown = key.decode("utf-8", "replace") if isinstance(key, bytes) else key
        _malformed_log.warning(source, "malformed_redis source=%s key=%r error=%r dropped=%d",
                               source, shown[:80], str(exc), self.malformed[source])

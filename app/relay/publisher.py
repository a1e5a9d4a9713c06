"""``photon relay``: the one process that talks to the upstream, publishing to Redis.

Finnhub allows one WebSocket per API key, so with several server processes one
relay holds the upstream and every server reads Redis (:mod:`app.feeds.redis_feed`).
The relay streams the union of what the servers declare they watch, keeps each
symbol's last quote and previous close in Redis for late joiners, and beats a
heartbeat with the upstream's state. Only the holder of a Redis lock (with an
expiry) opens the upstream; a second relay waits as a standby and takes over
when the holder's lock expires. Formats: :mod:`app.feeds.redis_formats`.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable

import redis
from redis.exceptions import LockError

from app.feeds import redis_formats as bus
from app.feeds import redis_url
from app.feeds.backoff import full_jitter
from app.feeds.base import Feed
from app.feeds.references import ReferenceLoader
from app.quotes import Quote, fold
from app.runtime import logs, metrics
from app.ticks import FeedState, Reference, Tick

log = logging.getLogger(__name__)
_malformed_log = logs.RateLimitedLog(log, 10.0)

#: How often the relay writes the universe again (a restarted Redis has lost it).
UNIVERSE_EVERY_S = 5.0
#: How long the last quote of a symbol nobody watches stays in Redis.
QUOTE_KEPT_S = 24 * 3600


class Relay:
    """Leader election, interest reconciliation and publishing around one upstream feed."""

    def __init__(self, make_feed: Callable[[], Feed], url: str, *,
                 lock_ttl_s: float = 6.0, relay_id: str | None = None):
        self.make_feed = make_feed
        self.url = url
        for secret in redis_url.url_secrets(url):  # masked in every log line from now on
            logs.protect(secret)
        self.lock_ttl_s = lock_ttl_s
        self.relay_id = relay_id or uuid.uuid4().hex[:12]
        self.role = "starting"
        """"standby", "leader" or "stopped": for logs and tests."""
        self.feed: Feed | None = None
        self._client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=3)
        self._stop = threading.Event()
        self._quotes: dict[str, Quote] = {}
        self._quotes_lock = threading.Lock()
        self._references: ReferenceLoader | None = None
        self._keep_until = 0.0
        """After the declarations were lost (``procs`` deleted), drop nothing from the
        upstream before this (``time.monotonic()``): servers need a moment to declare again."""

    def __repr__(self) -> str:
        url = redis_url.redact_url(self.url)
        return f"Relay(url={url!r}, id={self.relay_id!r}, role={self.role})"

    def stop(self) -> None:
        self._stop.set()

    # -- the outer loop: standby until leader, survive Redis outages ----------
    def run(self) -> None:
        """Run until :meth:`stop`: wait for the lock, then lead; back off on Redis errors."""
        attempt = 0
        lock = self._client.lock(bus.LOCK_KEY, timeout=self.lock_ttl_s, thread_local=False)
        try:
            while not self._stop.is_set():
                try:
                    if not self._acquire(lock):
                        continue
                    attempt = 0
                    self._lead(lock)
                except (redis.RedisError, OSError) as exc:
                    delay = full_jitter(attempt, base=0.5, cap=10.0)
                    attempt += 1
                    log.warning("relay redis_error url=%s error=%r retry_in=%.1fs",
                                redis_url.redact_url(self.url), logs.redact(str(exc))[:200], delay)
                    self._stop.wait(delay)
                except Exception:  # a bug or input nobody foresaw: never a silent death
                    delay = full_jitter(attempt, base=0.5, cap=10.0) + 0.5
                    attempt += 1
                    log.exception("relay_error id=%s retry_in=%.1fs", self.relay_id, delay)
                    self._stop.wait(delay)
        finally:
            self._stop_feed()
            self.role = "stopped"

    def _acquire(self, lock: redis.lock.Lock) -> bool:
        if self.feed is not None and (lock.owned() or lock.acquire(blocking=False)):
            return True  # still ours, or free again after a Redis restart: keep the upstream
        if lock.acquire(blocking=False):
            return True
        if self.role != "standby":
            self._stop_feed()
            self.role = "standby"
            log.info("relay standby id=%s: another relay holds the upstream; waiting for "
                     "its lock", self.relay_id)
        self._clear_foreign_lock()
        return lock.acquire(blocking=True, blocking_timeout=0.5)

    def _clear_foreign_lock(self) -> None:
        """A relay's lock always expires; a lock key without expiry was not set by a
        relay and would keep every relay waiting for good: drop it (counted, logged)."""
        if self._client.pttl(bus.LOCK_KEY) == -1:
            self._malformed("lock", bus.LOCK_KEY, bus.Malformed("no expiry: not a relay's"))
            self._client.delete(bus.LOCK_KEY)

    def _lead(self, lock: redis.lock.Lock) -> None:
        """Hold the upstream while the lock is ours; return when it is not (or on stop)."""
        if self.feed is None:
            self.feed = feed = self.make_feed()
            self._references = ReferenceLoader(feed, self._store_references,
                                               watched=lambda s: s in feed.symbols)
            feed.start(self._on_ticks)
        self.role = "leader"
        log.info("relay leader id=%s feed=%s", self.relay_id, self.feed.feed_type)
        interest = self._client.pubsub(ignore_subscribe_messages=True)
        interest.subscribe(bus.INTEREST_CHANNEL)
        next_extend = next_beat = next_reconcile = next_universe = 0.0
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                if now >= next_extend:
                    if not self._keep(lock):
                        return
                    next_extend = now + self.lock_ttl_s / 3
                if now >= next_beat:
                    self._beat()
                    next_beat = now + bus.HEARTBEAT_S
                if now >= next_reconcile:
                    self.reconcile()
                    next_reconcile = now + 1.0
                if now >= next_universe:  # again and again: Redis may have lost or
                    self._publish_universe(self.feed)  # garbled it since
                    next_universe = now + UNIVERSE_EVERY_S
                if interest.get_message(timeout=0.1) is not None:
                    next_reconcile = 0.0  # a server's set changed: follow it now
        finally:
            interest.close()
            if self._stop.is_set():
                self._step_down(lock)

    def _keep(self, lock: redis.lock.Lock) -> bool:
        """Extend the lock; False (and stop the upstream) if another relay has it."""
        try:
            lock.reacquire()
            return True
        except LockError:
            if lock.acquire(blocking=False):  # the key vanished (Redis restarted): ours again
                return True
            log.warning("relay id=%s lost the relay lock: stopping the upstream", self.relay_id)
            self._stop_feed()
            return False

    def _step_down(self, lock: redis.lock.Lock) -> None:
        """Clean exit: stop the upstream, end the heartbeat, let a standby in at once."""
        self._stop_feed()
        try:
            self._client.hdel(bus.FEED_KEY, "beat")
            lock.release()
        except (redis.RedisError, LockError):
            pass

    def _stop_feed(self) -> None:
        if self._references is not None:
            self._references.shutdown()
            self._references = None
        if self.feed is not None:
            self.feed.stop()
            self.feed = None

    # -- what servers watch ---------------------------------------------------
    def wanted(self) -> set[str] | None:
        """The union of the symbols every live server process declares, each set checked
        (:func:`app.feeds.redis_formats.decode_declaration`) before the upstream hears of
        it; None when a key holds another type than it should (unknown this round)."""
        now = time.time()
        pipe = self._client.pipeline(transaction=False)
        pipe.zremrangebyscore(bus.PROCS_KEY, "-inf", now - bus.WANT_TTL_S)
        pipe.zrangebyscore(bus.PROCS_KEY, now - bus.WANT_TTL_S, "+inf")
        try:
            _, members = pipe.execute()
        except redis.ResponseError as exc:  # not a sorted set: servers write it anew
            self._drop_wrong_type("procs", bus.PROCS_KEY, exc)
            self._keep_until = time.monotonic() + bus.WANT_TTL_S  # as long as a crashed
            return None  # server's symbols are kept
        procs = []
        for member in members:
            try:
                procs.append(bus.decode_proc(member))
            except bus.Malformed as exc:
                self._malformed("procs", bus.PROCS_KEY, exc)
        if not procs:
            return set()
        pipe = self._client.pipeline(transaction=False)
        for proc in procs:
            pipe.smembers(bus.want_key(proc))
        union: set[str] = set()
        for proc, members in zip(procs, pipe.execute(raise_on_error=False), strict=True):
            if isinstance(members, redis.ResponseError):  # its server rewrites it within 0.5 s
                self._malformed("want", bus.want_key(proc), members)
                return None
            try:
                symbols, bad = bus.decode_declaration(members)
            except bus.Malformed as exc:
                self._malformed("want", bus.want_key(proc), exc)
                continue
            if bad:
                self._malformed("want", bus.want_key(proc),
                                bus.Malformed(f"{bad} symbol(s) with the wrong syntax"), bad)
            union |= symbols
        return union

    def _drop_wrong_type(self, source: str, key: str, exc: Exception) -> None:
        """``key`` holds another type than Photon writes there: count it and delete it,
        so the next write starts it afresh."""
        self._malformed(source, key, exc)
        self._client.delete(key)

    def _malformed(self, source: str, key: str, exc: Exception, n: int = 1) -> None:
        """Drop, count and log (at a bounded rate) what a server wrote wrong."""
        metrics.observe_malformed(source, n)
        _malformed_log.warning(source, "malformed_redis source=%s key=%r error=%r",
                               source, key[:80], str(exc))

    def reconcile(self) -> None:
        """Subscribe the upstream to what is watched, and drop what nobody watches."""
        feed = self.feed
        if feed is None:
            return
        wanted = self.wanted()
        if wanted is None:
            return  # keep the upstream as it is until the declarations can be read
        current = feed.symbols
        pipe = self._client.pipeline(transaction=False)
        if time.monotonic() < self._keep_until:
            wanted = wanted | current  # add what is declared, drop nothing yet
        if drop := current - wanted:
            feed.unsubscribe(sorted(drop))
            with self._quotes_lock:
                for sym in drop:
                    self._quotes.pop(sym, None)
                    pipe.expire(bus.quote_key(sym), QUOTE_KEPT_S)  # unwatched: forget later
        if add := wanted - current:
            for sym in add:
                pipe.persist(bus.quote_key(sym))
            feed.subscribe(sorted(add))
            if self._references is not None:
                self._references.load(sorted(add))
        pipe.execute()
        if add or drop:
            log.info("relay subscriptions added=%s dropped=%s total=%d",
                     sorted(add), sorted(drop), len(wanted))

    def _store_references(self, refs: dict[str, Reference | None]) -> None:
        """Previous close (and a last price until trades arrive) for late joiners."""
        for sym, ref in refs.items():
            if ref is None:
                continue
            key = bus.quote_key(sym)
            pipe = self._client.pipeline(transaction=False)
            pipe.hset(key, mapping=bus.encode_quote({"prev_close": ref.prev_close,
                                                     "open": ref.open}))
            for name, value in (("last", ref.last), ("high", ref.high), ("low", ref.low)):
                if value is not None:
                    pipe.hsetnx(key, name, repr(float(value)))  # trades already in win
            pipe.execute()

    # -- ticks out (the feed's thread) -----------------------------------------
    def _on_ticks(self, ticks: list[Tick]) -> None:
        """Publish each symbol's trades as one message, and keep its last quote."""
        by_symbol: dict[str, list[Tick]] = defaultdict(list)
        for t in ticks:
            by_symbol[t.symbol].append(t)
        at = time.time()
        pipe = self._client.pipeline(transaction=False)
        quote_at: dict[int, str] = {}  # pipeline position of each quote write -> its key
        with self._quotes_lock:
            for sym, batch in by_symbol.items():
                q = self._quotes.get(sym) or Quote(sym)
                for t in batch:
                    q = fold(q, t)
                self._quotes[sym] = q
                for part in bus.batches(batch):
                    pipe.publish(bus.tick_channel(sym), bus.encode_ticks(part, at))
                quote_at[len(pipe)] = bus.quote_key(sym)
                pipe.hset(bus.quote_key(sym), mapping=bus.encode_quote(
                    {"last": q.last, "high": q.high, "low": q.low, "ts": q.ts}))
        try:
            results = pipe.execute(raise_on_error=False)
        except redis.RedisError as exc:  # Redis is down: these trades are lost, not queued
            log.debug("relay publish failed: %r", exc)
            return
        for i, key in quote_at.items():
            if isinstance(results[i], redis.ResponseError):  # not a hash: rewritten next time
                self._drop_wrong_type("quote", key, results[i])

    # -- what servers show ----------------------------------------------------
    def _beat(self) -> None:
        """The upstream's state and this relay's heartbeat."""
        feed = self.feed
        if feed is None:
            return
        msg = feed.last_message_mono
        status = bus.FeedStatus(
            beat=time.time(), state=FeedState(feed.state), feed=feed.feed_type,
            label=feed.label or feed.feed_type, last_error=feed.last_error,
            reconnects=feed.reconnects, relay=self.relay_id, retry_at=feed.retry_at,
            msg_at=time.time() - (time.monotonic() - msg) if msg else None,
            notes=feed.unavailable())
        try:
            self._client.hset(bus.FEED_KEY, mapping=bus.encode_feed(status))
        except redis.ResponseError as exc:  # not a hash: servers could not read it either
            self._drop_wrong_type("feed", bus.FEED_KEY, exc)
            self._client.hset(bus.FEED_KEY, mapping=bus.encode_feed(status))

    def _publish_universe(self, feed: Feed) -> None:
        self._client.set(bus.UNIVERSE_KEY,
                         bus.encode_universe(feed.open_universe, feed.universe()))

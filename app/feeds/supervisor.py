"""Every feed thread runs under one supervisor: a crash is shown, logged and retried.

A feed's ``_run`` handles the failures it expects (a dropped socket, Redis gone).
Anything else (a bug, a malformed message nobody thought of, a sink that raised)
used to end the thread silently while the feed kept its last state, so pages froze
on "live" and ``/health`` said ok. Here the exception is logged with its traceback,
the feed shows ``down`` with "feed error: ..." and when it restarts (the page counts
down to ``retry_at``; ``/health`` answers 503), and ``_run`` starts again after an
exponential backoff that resets once a run has stayed up for a while.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from app.runtime import logs, metrics
from app.ticks import FeedState

#: A :class:`app.feeds.base.Feed` (not imported: base imports this module).
Feed = Any

log = logging.getLogger(__name__)

#: Feed error text prefix, shown on the page and in ``/health``.
FEED_ERROR = "feed error"


def restart_delay(attempt: int, base_s: float, cap_s: float) -> float:
    """Seconds before restart number ``attempt`` (0 first): ``base_s`` doubling to ``cap_s``.

    No jitter: one process restarts one feed, and a round figure reads well on the page.
    """
    if attempt < 0:
        raise ValueError("attempt must be >= 0")
    return min(cap_s, base_s * 2.0 ** min(attempt, 62))


def describe(exc: BaseException) -> str:
    """``Type: message``, short and with every protected secret masked."""
    text = logs.redact(str(exc)).strip().replace("\n", " ")
    name = type(exc).__name__
    return f"{name}: {text[:200]}" if text else name


def supervise(feed: Feed) -> None:
    """Run ``feed._run`` until the feed is stopped, restarting it after any crash.

    The body of every feed thread (:meth:`Feed.start`). A ``_run`` that returns
    while the feed is not stopped and has not said it is done (state ``stopped``,
    e.g. a replay at its end) counts as a crash too: its thread would otherwise be
    gone while its state still said live.
    """
    attempt = 0
    try:
        while not feed._stop.is_set():
            began = time.monotonic()
            try:
                feed._run()
            except Exception as exc:  # the point of this function
                cause = describe(exc)
                failure: BaseException | None = exc
            else:
                if feed._stop.is_set() or feed.state == FeedState.STOPPED:
                    return
                cause, failure = "its loop ended unexpectedly", None
            if feed._stop.is_set():
                return
            if time.monotonic() - began >= feed.restart_stable_s:
                attempt = 0  # it had been running well: a fresh problem
            delay = restart_delay(attempt, feed.restart_base_s, feed.restart_cap_s)
            attempt += 1
            feed.restarts += 1
            metrics.observe_feed_restart()
            _show_failure(feed, cause, delay, failure)
            if feed._stop.wait(delay):
                return
            feed.retry_at = None
            feed.last_error = ""
            feed.state = FeedState.CONNECTING
    finally:
        feed.retry_at = None
        if not feed._stop.is_set() and feed.state != FeedState.STOPPED:
            # Only a BaseException (SystemExit, ...) gets here: never leave "live" behind.
            feed.state = FeedState.STOPPED
            feed.last_error = f"{FEED_ERROR}: the feed thread ended"


def _show_failure(feed: Feed, cause: str, delay: float, exc: BaseException | None) -> None:
    feed.retry_at = time.time() + delay
    feed.last_error = f"{FEED_ERROR}: {cause}"
    feed.state = FeedState.DOWN
    log.error("feed_error feed=%s error=%r restart=%d restart_in=%.1fs", feed.feed_type,
              cause, feed.restarts, delay, exc_info=exc)

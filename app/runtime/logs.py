"""Photon's log lines: one handler on the ``app`` logger, INFO by default, secrets masked.

Bokeh configures only its own loggers, so without this our state changes
(connect, disconnect, auth failure, rate limit) would be invisible. Messages
that carry data use ``key=value`` pairs so they can be grepped and parsed.

Secrets (API keys, the Redis password) are masked by a filter on the *handlers*:
a filter on a logger sees only records logged on that very logger, not its
children's, whereas every record a handler writes passes its filters. The filter
sits on Photon's handler, the root logger's (where websocket-client's and urllib3's
records end up), every other handler configured, and logging's last resort;
:func:`protect` adds a secret and re-checks them, :func:`configure` too.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from app.config import mask_credentials

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"

#: Shorter values are not masked: they would mask ordinary words and digits.
MIN_SECRET_LEN = 4


class Redactor(logging.Filter):
    """Masks protected secrets and credential-shaped text in every record it sees."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: frozenset[str] = frozenset()
        self._lock = threading.Lock()

    def add(self, secret: str) -> None:
        if len(secret) >= MIN_SECRET_LEN:
            with self._lock:
                self._secrets = self._secrets | {secret}

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, "***")
        return mask_credentials(text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:  # a broken record is logging's problem, not ours
            return True
        clean = self.redact(text)
        if clean != text:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


REDACTOR = Redactor()


def redact(text: str) -> str:
    """``text`` with every protected secret and credential-shaped value masked."""
    return REDACTOR.redact(text)


def protect(secret: str) -> None:
    """Mask ``secret`` in every log line from now on (and in :func:`redact`)."""
    REDACTOR.add(secret)
    install()


def install(handler: logging.Handler | None = None) -> None:
    """Put the redaction filter on ``handler``, or on every handler logging knows of
    now: Photon's, the root's (where websocket-client's and urllib3's records go),
    any other logger's, and the last-resort handler used when none is configured."""
    if handler is not None:
        handlers = [handler]
    else:
        known = list(logging.root.manager.loggerDict.values())
        loggers = [logging.getLogger(), *(lg for lg in known if isinstance(lg, logging.Logger))]
        handlers = [h for lg in loggers for h in lg.handlers]
        if logging.lastResort is not None:
            handlers.append(logging.lastResort)
    for h in handlers:
        if REDACTOR not in h.filters:
            h.addFilter(REDACTOR)


def configure(level: str = "INFO") -> None:
    """Attach a stderr handler to the ``app`` logger once (idempotent)."""
    logger = logging.getLogger("app")
    if not any(getattr(h, "_photon", False) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(FORMAT))
        handler._photon = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.setLevel(level.upper())
        logger.propagate = False
    install()


class RateLimitedLog:
    """At most one line per ``interval_s`` per key; says how many were held back.

    For input that can arrive in floods (malformed Redis messages): the count stays
    exact in metrics, the log stays readable.
    """

    def __init__(self, logger: logging.Logger, interval_s: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.logger = logger
        self.interval_s = interval_s
        self._clock = clock
        self._next: dict[str, float] = {}
        self._held: dict[str, int] = {}
        self._lock = threading.Lock()

    def warning(self, key: str, msg: str, *args: object) -> bool:
        """Log ``msg % args`` unless ``key`` logged within ``interval_s``; True if logged."""
        now = self._clock()
        with self._lock:
            if now < self._next.get(key, 0.0):
                self._held[key] = self._held.get(key, 0) + 1
                return False
            self._next[key] = now + self.interval_s
            held = self._held.pop(key, 0)
            if len(self._next) > 1000:  # bounded: forget keys quiet for a while
                self._next = {k: t for k, t in self._next.items() if t > now}
        suffix = f" (and {held} more since the last line)" if held else ""
        self.logger.warning(msg + suffix, *args)
        return True

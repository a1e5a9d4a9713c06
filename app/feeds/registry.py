"""Resolve a feed name (``mock``, ``finnhub``, ...) to its adapter class."""

from __future__ import annotations

import difflib
import importlib
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from app.config import SettingError
from app.feeds.base import Feed
from app.feeds.recording import Recorder

if TYPE_CHECKING:
    from app.config import Settings

#: Modules holding adapters; each defines ``Feed`` subclasses with a ``feed_type``.
ADAPTER_MODULES = ("app.feeds.mock", "app.feeds.finnhub", "app.feeds.alpaca", "app.feeds.replay")


def feed_classes() -> dict[str, type[Feed]]:
    """All known adapters by ``feed_type``, importing their modules on first use."""
    for module in ADAPTER_MODULES:
        importlib.import_module(module)
    found: dict[str, type[Feed]] = {}
    pending = list(Feed.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.feed_type and cls.__module__ in ADAPTER_MODULES:
            found.setdefault(cls.feed_type, cls)
    return found


#: Feeds named with an argument after a colon, and what the argument is.
ARGUMENTS = {"replay": "PATH"}


def feed_names() -> list[str]:
    """The feeds as a user types them, in :data:`ADAPTER_MODULES`' order:
    ``mock``, ``finnhub``, ``alpaca``, ``replay:PATH``."""
    classes = feed_classes()
    order = [m.rsplit(".", 1)[1] for m in ADAPTER_MODULES]
    names = sorted(classes, key=lambda n: (order.index(n) if n in order else len(order), n))
    return [f"{n}:{ARGUMENTS[n]}" if n in ARGUMENTS else n for n in names]


def feed_choices() -> str:
    """The feeds in words: ``mock, finnhub, alpaca or replay:PATH``."""
    names = feed_names()
    return " or ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else names[0]


def feed_class(name: str) -> type[Feed]:
    """The adapter class for ``name``; unknown names get a "did you mean" hint."""
    classes = feed_classes()
    kind, colon, _ = name.partition(":")
    if colon and kind in ARGUMENTS:  # replay:PATH, a recording
        return classes[kind]
    if name in classes and name not in ARGUMENTS:
        return classes[name]
    close = difflib.get_close_matches(name, feed_names(), n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    raise ValueError(f"{name} is not a feed: choose {feed_choices()}{hint}")


def check_feed_name(name: str) -> str | None:
    """None if ``name`` is a feed this registry can build, else one line saying why not."""
    if name.startswith("replay:"):
        path = Path(name[len("replay:"):])
        return None if path.is_file() else f"{name} is not allowed: no recording at {path}"
    try:
        feed_class(name)
    except ValueError as exc:
        return str(exc)
    return None


def require_feed_settings(settings: Settings, upstream: bool | None = None) -> None:
    """Raise ``SettingError`` with one clear line when the chosen feed cannot start.

    Checks what :mod:`app.config` cannot know by itself: that the feed exists (with a
    "did you mean"), that its keys are set, and that the relay's Redis answers.
    ``upstream``: whether this process talks to the upstream itself (the relay, or
    a server without ``PHOTON_REDIS_URL``); by default, unless a Redis URL is set.
    """
    if (why := check_feed_name(settings.feed)) is not None:
        raise SettingError(f"PHOTON_FEED={why}", "PHOTON_FEED")
    if upstream is None:
        upstream = not settings.redis_url
    if upstream and settings.feed == "finnhub" and not settings.finnhub_api_key:
        raise SettingError(
            "the finnhub feed needs an API key: set FINNHUB_API_KEY (in the environment "
            "or a .env file) or FINNHUB_API_KEY_FILE; see .env.example")
    if upstream and settings.feed == "alpaca" and not (settings.alpaca_key_id
                                                        and settings.alpaca_secret_key):
        raise SettingError(
            "the alpaca feed needs keys: set ALPACA_API_KEY_ID and ALPACA_API_SECRET_KEY (in "
            "the environment or a .env file) or their *_FILE variables; see .env.example")
    if settings.redis_url:
        from app.feeds.redis_url import ping

        if (why := ping(settings.redis_url)) is not None:
            raise SettingError(f"PHOTON_REDIS_URL={why}", "PHOTON_REDIS_URL")


def feed_for(settings: Settings) -> Feed:
    """The feed a server process reads: the relay through Redis when
    ``PHOTON_REDIS_URL`` is set, else the upstream adapter ``PHOTON_FEED`` names."""
    if settings.redis_url:
        from app.feeds.redis_feed import RedisFeed

        feed = RedisFeed.from_settings(settings)
        feed.hours = settings.market_hours
        return feed
    return upstream_feed(settings)


def upstream_feed(settings: Settings) -> Feed:
    """The adapter ``PHOTON_FEED`` names, recording to ``PHOTON_RECORD`` if set."""
    feed = feed_class(settings.feed).from_settings(settings)
    feed.hours = settings.market_hours
    if settings.record:
        feed.add_tap(Recorder(settings.record, feed.upstream))
    return feed


def record(settings: Settings, out: str | Path, duration_s: float = 0.0) -> Recorder:
    """Run ``settings``' feed on ``settings.symbols`` into ``out`` until Ctrl-C, SIGTERM
    or ``duration_s`` (0: no limit); returns the closed recorder."""
    import signal

    feed = feed_class(settings.feed).from_settings(settings)
    recorder = Recorder(out, feed.upstream)
    feed.add_tap(recorder)
    done = threading.Event()
    previous = {s: signal.signal(s, lambda *_: done.set())
                for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        feed.start(lambda ticks: None)  # the recorder is the only reader
        feed.subscribe(settings.symbols)
        for symbol in settings.symbols:  # previous closes, for the replayed board's change
            feed.get_reference(symbol)
        done.wait(duration_s if duration_s > 0 else None)
    finally:
        feed.stop()  # closes the recorder
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return recorder

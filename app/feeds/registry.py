"""Resolve a feed name (``mock``, ``finnhub``, ...) to its adapter class."""

from __future__ import annotations

import difflib
import importlib
from typing import TYPE_CHECKING

from app.feeds.base import Feed

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


def feed_class(name: str) -> type[Feed]:
    """The adapter class for ``name``; unknown names get a "did you mean" hint."""
    classes = feed_classes()
    if name.startswith("replay:"):  # replay:PATH, a recording
        return classes["replay"]
    if name in classes:
        return classes[name]
    close = difflib.get_close_matches(name, list(classes), n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"Unknown feed {name!r}; choose one of {sorted(classes)}.{hint}")


def feed_for(settings: Settings) -> Feed:
    """The feed a server process reads: the relay through Redis when
    ``PHOTON_REDIS_URL`` is set, else the upstream adapter ``PHOTON_FEED`` names."""
    if settings.redis_url:
        from app.feeds.redis_feed import RedisFeed

        return RedisFeed.from_settings(settings)
    return upstream_feed(settings)


def upstream_feed(settings: Settings) -> Feed:
    """The adapter ``PHOTON_FEED`` names, recording to ``PHOTON_RECORD`` if set."""
    feed = feed_class(settings.feed).from_settings(settings)
    if settings.record:
        from app.recording import Recorder

        feed.add_tap(Recorder(settings.record, feed.upstream))
    return feed

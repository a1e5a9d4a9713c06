"""What every lane keeps: the sessions it serves, and a hand-over from the hub's
thread to the IO loop that owns them.

Sessions come and go on the IO loop (and in tests on any thread) while the hub
publishes on its own thread, so each lane's sessions sit behind one lock, and a
cycle only ever *wakes* the loop: the lane then reads the hub there. The fast lane,
the Bokeh lane and the status broadcast each hold a :class:`Sessions`; the two
cycle-driven lanes also a :class:`OnCycle`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

from tornado.ioloop import IOLoop

from app.hub.hub import Hub

K = TypeVar("K")
V = TypeVar("V")


class Sessions(Generic[K, V]):
    """A lane's sessions by key (a session id or a token), safe from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[K, V] = {}

    def add(self, key: K, value: V) -> V | None:
        """Register ``value`` under ``key``; returns what it replaced, if anything."""
        with self._lock:
            old = self._items.get(key)
            self._items[key] = value
            return old

    def pop(self, key: K) -> V | None:
        """Forget ``key``; returns what was registered (None if nothing)."""
        with self._lock:
            return self._items.pop(key, None)

    def get(self, key: K) -> V | None:
        with self._lock:
            return self._items.get(key)

    def values(self) -> list[V]:
        """A snapshot, to iterate without holding the lock."""
        with self._lock:
            return list(self._items.values())

    @contextmanager
    def locked(self) -> Iterator[dict[K, V]]:
        """The dict itself, for a change of several steps that must be seen as one."""
        with self._lock:
            yield self._items

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


class OnCycle:
    """Runs ``wake()`` on ``loop`` after every hub cycle that changed something.

    The hub's thread only schedules; ``wake`` reads the hub on the loop, where the
    lane's sessions live. :meth:`close` stops it.
    """

    def __init__(self, hub: Hub, loop: IOLoop, wake: Callable[[], None]):
        self.hub, self.loop, self.wake = hub, loop, wake
        hub.add_listener(self._on_publish)

    def _on_publish(self, cycle: int) -> None:
        self.loop.add_callback(self.wake)

    def close(self) -> None:
        self.hub.remove_listener(self._on_publish)

"""Feed health to every session, computed once per second for the whole process.

A status line per session polling the hub costs a callback per session per
second (about 1 ms each with Bokeh's machinery: 20 % of a core at 200 sessions)
to learn, almost always, that nothing changed. Here one timer reads the hub's
health once a second and only when what a viewer would see changes does it
schedule an update on each session's document.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from bokeh.document import Document
from tornado.ioloop import IOLoop, PeriodicCallback

from app.hub.hub import Health, Hub
from app.lanes.sessions import Sessions
from app.runtime.singleton import OnePerProcess

#: How often health is read, milliseconds.
EVERY_MS = 1000


class Broadcaster:
    """Calls each registered ``show(health)`` on its own document when health looks different."""

    def __init__(self, hub: Hub, view_of: Callable[[Health], object]):
        self.hub = hub
        self._view_of = view_of
        self._targets: Sessions[int, tuple[Document | None, Callable[[Health], None]]] = \
            Sessions()
        self._last: object = None
        self._timer = PeriodicCallback(self.tick, EVERY_MS)
        self._timer.start()

    def add(self, key: int, doc: Document | None, show: Callable[[Health], None]) -> None:
        """``show(health)`` on ``doc``'s next tick; with no document (a plain WebSocket,
        e.g. an embed's) on the IO loop, right away."""
        self._targets.add(key, (doc, show))

    def discard(self, key: int) -> None:
        self._targets.pop(key)

    def __len__(self) -> int:
        return len(self._targets)

    def tick(self) -> None:
        """Read health once; if its visible form changed, update every session."""
        health = self.hub.health()
        view = self._view_of(health)
        if view == self._last:
            return
        self._last = view
        for doc, show in self._targets.values():
            if doc is None:
                show(health)
            else:
                doc.add_next_tick_callback(partial(show, health))

    def close(self) -> None:
        self._timer.stop()


_one: OnePerProcess[Broadcaster] = OnePerProcess()


def install(hub: Hub, view_of: Callable[[Health], object]) -> Broadcaster:
    """Start the process's broadcaster on the current IO loop (idempotent)."""
    IOLoop.current()  # the server's loop: PeriodicCallback binds to it
    return _one.start(lambda: Broadcaster(hub, view_of))


get = _one.get
uninstall = _one.stop

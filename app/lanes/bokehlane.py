"""The Bokeh lane: sessions that take ticks as Bokeh model changes push right after
each hub cycle, instead of each on a timer of its own.

A per-session periodic callback runs out of phase with the hub: an update waits up
to one more push interval for it, and when two hub cycles fall between two of its
runs they go out as one. Here each published cycle wakes the IO loop once, which
queues one push on the document of every registered session; Bokeh runs it under
that document's lock. A session whose previous push has not run yet is skipped:
that push takes everything since its last cycle, so a busy loop never builds a
queue. (The fast lane, :mod:`app.lanes.fastlane`, bypasses Bokeh altogether; this lane
serves ``PHOTON_TRANSPORT=bokeh`` and browsers that cannot open the fast lane.)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from bokeh.document import Document
from tornado.ioloop import IOLoop

from app.hub.hub import Hub
from app.lanes.sessions import OnCycle, Sessions
from app.runtime.singleton import OnePerProcess

log = logging.getLogger(__name__)

class _Session:
    """One registered session: its document, its push, and whether a push is queued."""

    __slots__ = ("doc", "push", "queued", "lane")

    def __init__(self, doc: Document, push: Callable[[], None], lane: BokehLane):
        self.doc, self.push, self.queued, self.lane = doc, push, False, lane

    def run(self) -> None:
        self.queued = False
        self.push()
        hub = self.lane.hub  # how long after publication this session got its cycle
        hub.report_delivery(time.time() - hub.cycle_at)


class BokehLane:
    """One per process: hub cycles to the documents of registered sessions."""

    def __init__(self, hub: Hub, loop: IOLoop):
        self.hub = hub
        self.loop = loop
        self._sessions: Sessions[int, _Session] = Sessions()
        self.skipped = 0
        """Pushes not queued because the session's previous one had not run yet."""
        self._cycles = OnCycle(hub, loop, self.wake)

    def close(self) -> None:
        self._cycles.close()

    def add(self, key: int, doc: Document, push: Callable[[], None]) -> None:
        """Call ``push()`` on ``doc`` after every hub cycle until :meth:`discard`."""
        self._sessions.add(key, _Session(doc, push, self))

    def discard(self, key: int) -> None:
        self._sessions.pop(key)

    def __len__(self) -> int:
        return len(self._sessions)

    def wake(self) -> None:
        """IO loop, after a cycle: queue one push per registered session, unless its last
        one is still queued."""
        for session in self._sessions.values():
            if session.queued:
                self.skipped += 1
                continue
            session.queued = True
            try:
                session.doc.add_next_tick_callback(session.run)
            except Exception:  # its session is going away; close() will discard it
                log.debug("could not queue a push", exc_info=True)


_one: OnePerProcess[BokehLane] = OnePerProcess()


def install(hub: Hub) -> BokehLane:
    """Start the process's Bokeh lane on the current IO loop (idempotent)."""
    return _one.start(lambda: BokehLane(hub, IOLoop.current()))


get = _one.get
uninstall = _one.stop

"""How one dashboard's updates reach its browser: the fast lane, the Bokeh lane, or a
timer of its own; and its status line, from the process's broadcaster or that timer.

A served session registers with the lanes only once its browser is connected (a change
sent between the page's render and the connection would be lost); a notebook, which has
no server, pushes on a timer at the hub's fastest cadence. Should the browser not manage
the fast lane, the dashboard falls back to Bokeh (:meth:`Delivery.fall_back_to_bokeh`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import panel as pn

from app.hub.hub import Hub, Subscription
from app.lanes import broadcast
from app.lanes.bokehlane import BokehLane
from app.lanes.fastlane import FastLane
from app.views.account import session_user

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Delivery:
    """The transport of one dashboard (``owner``: its id in the lanes' registries)."""

    owner: int
    hub: Hub
    subscription: Subscription
    board: Any
    """The :class:`~app.views.board.BoardView`: its ``fast_url`` names the fast lane."""
    push: Callable[[], None]
    """One push cycle through Bokeh (:meth:`Dashboard.push`)."""
    show_status: Callable[[], None]
    show_health: Callable[[Any], None]
    send_snapshot: Callable[[], None]
    fast_lane: FastLane | None = None
    fast_path: str = ""
    bokeh_lane: BokehLane | None = None
    token: str | None = None
    """The session's fast-lane token while ticks go that way."""
    broadcaster: broadcast.Broadcaster | None = None
    """The process-wide status timer this session has joined (or will, once loaded)."""
    callback: Any = field(default=None)
    """A periodic callback of the session's own (a notebook's pushes, or status)."""

    @property
    def transport(self) -> str:
        """"fast" while ticks go over the fast lane, else "bokeh"."""
        return "fast" if self.token is not None else "bokeh"

    def start(self, doc, served: bool) -> None:
        """Start delivering to ``doc``'s browser (a served session) or on a timer."""
        if served and (broadcaster := broadcast.get()) is not None:
            # Status comes from one process-wide timer that only sends changes. Join
            # it once the browser is connected, starting from what is true now.
            self.broadcaster = broadcaster
            pn.state.onload(lambda: self._join_broadcast(doc))
        if self.fast_lane is not None:
            # Ticks go straight to the browser: this session has no timer of its own.
            # bound to the signed-in user; the Bokeh session holds its place in the limits
            session_id = doc.session_context.id if served else None
            self.token = self.fast_lane.register(self.subscription, session_user(), session_id)
            self.board.fast_url = f"{self.fast_path}?token={self.token}"
            if self.broadcaster is None:
                self.callback = pn.state.add_periodic_callback(self.show_status,
                                                               broadcast.EVERY_MS)
        else:
            self.push_through_bokeh(doc if served else None)

    def _join_broadcast(self, doc) -> None:
        if self.broadcaster is not None and not self.subscription.closed:
            self.broadcaster.add(self.owner, doc, self.show_health)
            self.show_status()

    def fall_back_to_bokeh(self) -> None:
        """The browser could not use the fast lane: push through Bokeh instead."""
        if self.token is None:
            return
        log.info("fast lane unavailable to a browser; falling back to Bokeh updates")
        self.stop()
        self.board.fast_url = ""
        self.send_snapshot()
        self.push_through_bokeh(pn.state.curdoc, connected=True)

    def push_through_bokeh(self, doc, connected: bool = False) -> None:
        """Push as Bokeh model changes: after each hub cycle where a lane runs, else on a
        timer. A served session joins the lane once its browser is connected."""
        lane = self.bokeh_lane
        if doc is not None and lane is not None:
            def join() -> None:
                if not self.subscription.closed:
                    lane.add(self.owner, doc, self.push)

            if connected:
                join()
            else:
                pn.state.onload(join)
        else:
            # a timer of its own (a notebook) runs at the hub's fastest cadence
            self.callback = pn.state.add_periodic_callback(self.push,
                                                           self.hub.push_interval_floor_ms)

    def stop(self) -> None:
        """Leave every lane and stop the timers (safe to repeat)."""
        if self.bokeh_lane is not None:
            self.bokeh_lane.discard(self.owner)
        if self.broadcaster is not None:
            self.broadcaster.discard(self.owner)
            self.broadcaster = None
        if self.callback is not None:
            self.callback.stop()
            self.callback = None
        if self.token is not None:
            self.fast_lane.unregister(self.token)
            self.token = None

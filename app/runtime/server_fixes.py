"""A fix for a Bokeh server race that leaks sessions of tabs closed while connecting.

Bokeh's ``WSHandler.open`` schedules ``_async_open``, which creates the session
connection after an ``await``. If the browser closes the socket in between,
``on_close`` runs first, finds no connection to release, and the connection
created afterwards is never released: the session never becomes "unused", is
never reaped, and keeps its hub subscriptions forever. (Seen with Bokeh 3.9.2:
a tab opened and closed at once.) The fix: after opening, if the socket is
already gone, run the close path again now that there is a connection.
"""

from __future__ import annotations

import logging

from bokeh.server.views.ws import WSHandler

log = logging.getLogger(__name__)


def install() -> None:
    """Patch ``WSHandler._async_open`` once per process (idempotent)."""
    if getattr(WSHandler._async_open, "_photon_fixed", False):
        return
    original = WSHandler._async_open

    async def _async_open(self: WSHandler, token: str) -> None:
        await original(self, token)
        leaked = (self.connection is not None and self.ws_connection is None
                  and self.connection._session is not None)  # on_close has not released it
        if leaked:
            log.info("WebSocket closed while opening; releasing its session connection")
            self.on_close()

    _async_open._photon_fixed = True  # type: ignore[attr-defined]
    WSHandler._async_open = _async_open  # type: ignore[method-assign]

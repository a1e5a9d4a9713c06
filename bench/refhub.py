"""The references' hub: Photon's own Hub, published by the server's push loop."""

from __future__ import annotations

from app.hub import Hub


class LoopHub(Hub):
    """Photon's :class:`~app.hub.Hub`, but each cycle is published by the caller's push
    loop right before it fans out, instead of by the hub's own thread on its own timer.
    Pushes are then aligned with publication and never conflate two cycles."""

    def _cycle_loop(self) -> None:
        self._stop.wait()

"""The references' hub: Photon's own Hub, published by the server's push loop."""

from __future__ import annotations

from app.hub.hub import Hub


class PushLoopClock:
    """Stands in for the hub's cycle clock (app/hub/cycle_clock.py), which would publish on
    its own thread: in a reference the server's push loop calls ``publish`` instead."""

    cycles_missed = 0

    def __init__(self) -> None:
        self.running = False

    def start(self) -> None:
        self.running = True

    def stop(self) -> None:
        self.running = False


class LoopHub(Hub):
    """Photon's :class:`~app.hub.hub.Hub`, but each cycle is published by the caller's push
    loop right before it fans out, instead of by the hub's own thread on its own timer.
    Pushes are then aligned with publication and never conflate two cycles."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._cycles = PushLoopClock()

"""One cell of a benchmark run: which server is measured, with how many sessions, at
which cadence. Its own module so that the runner (cells.py), the load workers and
the summaries all name it without importing each other."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Cell:
    """What one cell measures: the ``server`` compared (photon, photon-bokeh, tornado,
    socketio), with ``n`` sessions at ``push_ms``."""

    server: str
    n: int
    push_ms: int
    k: int = 10
    slow: int = 0
    browser: bool = False
    latency: bool = False  # a cell of the latency sweep (Photon, N=100, per push interval)
    profile: bool = False
    label: str = ""
    duration: float | None = None

"""Photon's log lines: one handler on the ``app`` logger, INFO by default.

Bokeh configures only its own loggers, so without this our state changes
(connect, disconnect, auth failure, rate limit) would be invisible. Messages
that carry data use ``key=value`` pairs so they can be grepped and parsed.
"""

from __future__ import annotations

import logging

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def configure(level: str = "INFO") -> None:
    """Attach a stderr handler to the ``app`` logger once (idempotent)."""
    logger = logging.getLogger("app")
    if any(getattr(h, "_photon", False) for h in logger.handlers):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(FORMAT))
    handler._photon = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(level.upper())
    logger.propagate = False

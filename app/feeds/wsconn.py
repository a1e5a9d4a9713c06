"""One WebSocket connection attempt: its bookkeeping, and sending or closing it safely.

Used by :class:`~app.feeds.streaming.StreamingFeed` from several threads (the
reading thread, the watchdog, sessions subscribing); none of these helpers raise
because the connection has gone.
"""

from __future__ import annotations

import contextlib
import json
import socket
from dataclasses import dataclass

import websocket

from app.feeds.restkit import redact
from app.ticks import FeedState


@dataclass
class Conn:
    """Bookkeeping for the one connection attempt in progress."""

    ws: websocket.WebSocketApp
    started: float
    opened: float | None = None
    ready: bool = False
    """Subscriptions may be sent (for some providers only after authenticating)."""
    last_msg: float = 0.0
    reason: str | None = None
    refused: tuple[FeedState, str] | None = None
    """The provider refused us for a reason a quick retry will not fix (bad key, ...):
    show this state and text and wait ``auth_retry_s`` before trying again."""
    closed: bool = False


def send(ws: websocket.WebSocketApp, message: dict) -> bool:
    """Send one frame; False if the connection is gone (never raises for that)."""
    try:
        ws.send(json.dumps(message))
        return True
    except (websocket.WebSocketConnectionClosedException, websocket.WebSocketException,
            OSError):
        return False


def abort(ws: websocket.WebSocketApp) -> None:
    """Shut the socket down from any thread: the reading thread wakes and tears down."""
    ws.keep_running = False
    sock = ws.sock
    raw = getattr(sock, "sock", None) if sock is not None else None
    if raw is not None:
        with contextlib.suppress(OSError):
            raw.shutdown(socket.SHUT_RDWR)


def describe(error: BaseException, secrets: list[str]) -> str:
    """A short, key-free description of a connection error."""
    text = redact(str(error), *secrets).strip()
    name = type(error).__name__
    return f"{name}: {text[:200]}" if text else name

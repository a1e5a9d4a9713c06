"""The values alerts pass around: a firing, one delivery's state, a user's delivery
settings. Plain frozen dataclasses, so the store, the engine and the outbox share
them without importing each other."""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass, field
from enum import StrEnum


def alert_id(user: str, board: str, key: str) -> str:
    """The stable id of one alert of one board of one user (its armed state's key):
    the same alert saved again keeps its state, a changed one starts armed."""
    return hashlib.sha256(f"{user}\n{board}\n{key}".encode()).hexdigest()[:24]


@dataclass(frozen=True, slots=True)
class Firing:
    """One alert that fired: what the log keeps and what every delivery carries."""

    user: str
    board: str
    symbol: str
    condition: str
    """The alert's canonical text, e.g. ``AAPL>230.5``."""
    price: float
    trade_time: float
    """Exchange time of the trade that fired it, Unix seconds."""
    fired_at: float = field(default_factory=time.time)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    """Sent with every retry, so a receiver can drop a repeat."""
    alert_id: str = ""
    test: bool = False
    """A "send a test alert" press, not a crossing."""

    def text(self) -> str:
        """One line a chat shows as is (Slack's and Discord's incoming webhooks)."""
        if self.test:
            return "Photon test alert: delivery works."
        where = f" (board {self.board})" if self.board else ""
        return f"Photon alert {self.condition}: {self.symbol} traded at {self.price:g}{where}"


class State(StrEnum):
    """Where one delivery of one firing stands."""

    PENDING = "pending"
    """Being tried (first attempt, or waiting for the next retry)."""
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One channel's delivery of one firing."""

    channel: str
    """``webhook`` or ``email``."""
    state: State
    attempts: int = 0
    reason: str = ""
    """Why the last attempt failed (one line; never a secret)."""


@dataclass(frozen=True, slots=True)
class DeliverySettings:
    """Where a user's alerts go; ``None``: not by that channel."""

    user: str
    webhook: str | None = None
    email: str | None = None
    webhook_secret: str = field(default="", repr=False)
    """Key of the ``X-Photon-Signature`` HMAC; shown to its user, never logged."""

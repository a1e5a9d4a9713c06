"""One delivery, tried until it is sent, refused for good, or the schedule runs out.

A channel (:mod:`app.alerts.webhook`, :mod:`app.alerts.email`) makes one attempt and
says how it went (:class:`Attempt`); :func:`with_retries` waits by the schedule
between attempts and records each outcome, so the page can show "pending (3 tries:
answered 503)" while it is still being tried and the reason once it failed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from app.alerts.records import Delivery, State

#: Seconds before each retry: doubling from 15 s, 8 retries over about an hour
#: (15 + 30 + ... + 1920 = 3825 s), so an hour's outage of the receiver loses nothing.
DEFAULT_SCHEDULE: tuple[float, ...] = tuple(15.0 * 2**k for k in range(8))


@dataclass(frozen=True, slots=True)
class Attempt:
    """How one attempt went."""

    ok: bool
    retry: bool = False
    """Worth trying again (no answer, a 5xx, a busy server); else the failure is final."""
    reason: str = ""
    """One line for the page; never a secret."""


SENT = Attempt(True)


async def with_retries(channel: str, attempt: Callable[[], Awaitable[Attempt]],
                       record: Callable[[Delivery], Awaitable[None]],
                       schedule: Sequence[float] = DEFAULT_SCHEDULE, *, done: int = 0,
                       sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> Delivery:
    """Try ``attempt`` until it is sent or fails for good; ``record`` each outcome.

    ``done``: attempts made before (a delivery resumed after a restart) — it goes on
    with the rest of the schedule.
    """
    waits = [0.0, *schedule]
    n = done
    if n >= len(waits):  # resumed with no tries left (a shorter schedule since)
        state = Delivery(channel, State.FAILED, n, "no tries left after a restart")
        await record(state)
        return state
    while True:
        if waits[n]:
            await sleep(waits[n])
        result = await attempt()
        n += 1
        if result.ok:
            state = Delivery(channel, State.SENT, n)
        else:
            final = not result.retry or n >= len(waits)
            state = Delivery(channel, State.FAILED if final else State.PENDING, n, result.reason)
        await record(state)
        if state.state is not State.PENDING:
            return state

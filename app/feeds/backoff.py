"""Reconnect delays: exponential backoff with full jitter.

Kept pure (the random source is a parameter) so the schedule can be tested without
sleeping, and shared by any adapter that reconnects to an upstream.
"""

from __future__ import annotations

import random
from collections.abc import Callable


def full_jitter(attempt: int, base: float = 1.0, cap: float = 60.0,
                rand: Callable[[], float] = random.random) -> float:
    """Seconds to wait before retry number ``attempt`` (0 for the first retry).

    Uniform in ``[0, min(cap, base * 2**attempt)]`` ("full jitter"): many clients
    dropped at once by the same upstream spread their reconnects out instead of
    arriving together.
    """
    if attempt < 0:
        raise ValueError("attempt must be >= 0")
    ceiling = min(cap, base * 2.0 ** min(attempt, 62))
    return max(0.0, ceiling) * rand()

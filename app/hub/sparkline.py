"""How a sparkline stays bounded without forgetting its day.

A sparkline keeps at most ``max_points`` points. Dropping the oldest (a ring) would
let a few seconds of live ticks push out the day of history a row was seeded with.
Instead, when it is full, older minutes are thinned to one point each (their last
price, as a minute bar's close), so the line keeps its span (the day, or the last
hours) at minute resolution and the recent past at full resolution. ``board.js``
applies the same rule (``spark.js``) to the points it appends, so the browser's line
and the server's agree.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import groupby
from typing import TypeVar

P = TypeVar("P")


def low_water(max_points: int) -> int:
    """Points left after a compaction: an eighth below the cap, so that compacting (a
    pass over the points) happens once every many appends, not on each."""
    return max(2, max_points - max(1, max_points // 8))


def compact_points(points: Sequence[P], max_points: int,
                   time_of: Callable[[P], float]) -> list[P]:
    """``points`` (oldest first) cut to :func:`low_water` once over ``max_points``.

    In this order, until few enough: each minute before the newest, oldest first, keeps
    only its last point; the newest minute keeps at least a quarter of the cap (the
    live detail), dropping its oldest; then the oldest points go.
    """
    if len(points) <= max_points:
        return list(points)
    target = low_water(max_points)
    groups = [list(g) for _, g in groupby(points, key=lambda p: int(time_of(p) // 60))]
    *older, newest = groups
    excess = len(points) - target
    kept: list[P] = []
    for group in older:
        if excess > 0 and len(group) > 1:
            excess -= len(group) - 1
            group = group[-1:]
        kept.extend(group)
    if excess > 0:
        cut = min(excess, max(len(newest) - max(2, max_points // 4), 0))
        newest = newest[cut:]
        excess -= cut
    if excess > 0:
        kept = kept[excess:]
    return (kept + newest)[-target:]

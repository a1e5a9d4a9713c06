"""The hub: one per process, between the feed and every session.

Ref-counted subscriptions decide what the upstream carries, the quote book folds
ticks into the latest quote per symbol, the cycle clock publishes what changed
once per push interval at the cadence the hub owns, and health says how the feed
looks to viewers. Lanes and views only read what the hub publishes.
"""

from app.hub.hub import (
    PROCESS_ID,
    Changes,
    Health,
    Hub,
    Subscription,
    get_hub,
    make_hub,
    reset_hub,
    schedule,
)

__all__ = ["PROCESS_ID", "Changes", "Health", "Hub", "Subscription", "get_hub", "make_hub",
           "reset_hub", "schedule"]

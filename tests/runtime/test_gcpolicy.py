"""The GC policy (app/runtime/gcpolicy.py): the pure rule, and against the real collector that a
frozen session's objects survive collections until the reclaim step frees them."""

from __future__ import annotations

import gc
import weakref

import pytest

from app.runtime.gcpolicy import Action, GcPolicy, Rule, decide

RULE = Rule(share=0.25, least=2, max_freezes=3)


@pytest.mark.parametrize(("frozen", "closed", "opened", "freezes", "action"), [
    (0, 0, 0, 0, Action.NOTHING),        # nothing happened
    (0, 0, 5, 0, Action.FREEZE),         # sessions built: freeze them
    (100, 10, 0, 1, Action.NOTHING),     # a few closed: not worth a full collection yet
    (100, 10, 3, 1, Action.FREEZE),      # ... but freeze the new ones
    (100, 25, 0, 1, Action.RECLAIM),     # a quarter of the frozen ones closed
    (4, 1, 0, 1, Action.NOTHING),        # below the least count even if a quarter
    (4, 2, 0, 1, Action.RECLAIM),
    (100, 0, 1, 3, Action.RECLAIM),      # many freezes: reclaim what they may have held
    (100, 0, 0, 3, Action.NOTHING),      # ... but only when something changed
])
def test_decide(frozen, closed, opened, freezes, action):
    assert decide(frozen, closed, opened, freezes, RULE) is action


class FakeHub:
    def __init__(self):
        self.sessions_opened = self.sessions_closed = 0

    @property
    def sessions(self) -> int:
        return self.sessions_opened - self.sessions_closed


class Session:
    """Stands in for a session's object graph: a reference cycle."""

    def __init__(self):
        self.me = self


@pytest.fixture
def policy():
    hub = FakeHub()
    p = GcPolicy(hub, Rule(share=0.25, least=1, max_freezes=100), every_ms=None)
    yield p, hub
    p.close()
    gc.collect()


def test_frozen_sessions_are_skipped_by_collections_and_freed_by_reclaim(policy):
    p, hub = policy
    sessions = [Session() for _ in range(4)]
    hub.sessions_opened += 4
    assert p.tick() is Action.FREEZE
    assert gc.get_freeze_count() > 0
    refs = [weakref.ref(s) for s in sessions]
    del sessions
    hub.sessions_closed += 4
    gc.collect()  # what an automatic full collection would do meanwhile
    assert all(r() is not None for r in refs), "frozen cycles are not walked"
    assert p.tick() is Action.RECLAIM
    assert all(r() is None for r in refs), "the reclaim step frees closed sessions"
    assert gc.get_freeze_count() > 0, "and freezes the live heap again"
    assert p.reclaims == 1


def test_a_few_closed_sessions_wait_for_the_reclaim(policy):
    p, hub = policy
    sessions = [Session() for _ in range(8)]
    hub.sessions_opened += 8
    p.tick()
    ref = weakref.ref(sessions.pop())
    hub.sessions_closed += 1  # 1 of 8 closed: under a quarter
    assert p.tick() is Action.NOTHING
    gc.collect()
    assert ref() is not None
    sessions.clear()
    hub.sessions_closed += 7
    assert p.tick() is Action.RECLAIM
    assert ref() is None


def test_steady_churn_reaches_the_reclaim_before_max_freezes():
    """One session closes and one opens between every two ticks: every tick freezes the
    new one, and the closed ones must still add up to the share (counted since the last
    reclaim, not the last freeze) instead of staying frozen until ``max_freezes``."""
    hub = FakeHub()
    p = GcPolicy(hub, Rule(share=0.25, least=2, max_freezes=100), every_ms=None)
    try:
        live = [Session() for _ in range(8)]
        hub.sessions_opened += 8
        assert p.tick() is Action.FREEZE
        closed = []
        actions = []
        for _ in range(4):
            closed.append(weakref.ref(live.pop(0)))
            hub.sessions_closed += 1
            live.append(Session())
            hub.sessions_opened += 1
            actions.append(p.tick())
        assert Action.RECLAIM in actions, actions
        assert all(r() is None for r in closed[:2]), "closed sessions freed under churn"
    finally:
        p.close()
        gc.collect()


def test_full_threshold_raises_only_the_oldest_generations():
    from app.runtime.gcpolicy import FULL_THRESHOLD, full_threshold

    assert full_threshold((700, 10, 10)) == (700, 10, FULL_THRESHOLD)
    assert full_threshold((2000, 20, 10 * FULL_THRESHOLD)) == (2000, 20, 10 * FULL_THRESHOLD)


def test_the_policy_raises_the_full_threshold_while_it_runs_and_restores_it():
    from app.runtime.gcpolicy import full_threshold

    before = gc.get_threshold()
    p = GcPolicy(FakeHub(), every_ms=None)
    try:
        assert gc.get_threshold() == full_threshold(before) != before
    finally:
        p.close()
    assert gc.get_threshold() == before

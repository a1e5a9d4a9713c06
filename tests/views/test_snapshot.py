"""A board's snapshot made of per-cycle pieces shared by sessions (app/views/snapshot.py)."""

from __future__ import annotations

import json

from app.hub.quote_book import Changes
from app.quotes import Quote, quote_row
from app.views import snapshot


class FakeHub:
    """A hub's ``cycle`` and ``changes_since(0, ...)``; ``publish_on_read`` moves the
    cycle on while the next N reads are under way (as the hub's thread may)."""

    def __init__(self):
        self.cycle = 1
        self.prices = {"AAPL": 190.0, "TSLA": 250.0}
        self.reads: list[list[str]] = []
        self.publish_on_read = 0

    def changes_since(self, cycle, symbols):
        symbols = list(symbols)
        self.reads.append(symbols)
        if self.publish_on_read:
            self.publish_on_read -= 1
            self.cycle += 1
        rows = [quote_row(Quote(s, last=self.prices[s] + self.cycle)) for s in symbols
                if s in self.prices]
        points = {s: [(100.0 + i, self.prices[s] + i) for i in range(self.cycle)]
                  for s in symbols if s in self.prices}
        return Changes(self.cycle, [], rows, points)


def expected(hub: FakeHub, symbols: list[str]) -> tuple[str, str]:
    """What the board made per session before: json.dumps of the rows."""
    changes = hub.changes_since(0, symbols)
    by = {r["symbol"]: r for r in changes.rows}
    rows = [{**(by.get(s) or quote_row(Quote(s))), "points": [list(p) for p in
                                                               changes.points.get(s, [])]}
            for s in symbols]
    light = json.dumps([{k: v for k, v in r.items() if k != "points"} for r in rows])
    return json.dumps(rows, separators=(",", ":")), light


def test_joined_texts_are_what_json_dumps_makes_of_the_rows():
    hub = FakeHub()
    shown = snapshot.Fragments().snapshot(hub, ["TSLA", "AAPL", "ZZZZ"])  # ZZZZ: no quote
    assert (shown.full, shown.light) == expected(hub, ["TSLA", "AAPL", "ZZZZ"])
    assert shown.cycle == 1
    assert json.loads(shown.full) == json.loads(json.dumps(shown.rows))
    assert shown.full != shown.light  # forget_points' text never equals a sent snapshot


def test_an_empty_board():
    shown = snapshot.Fragments().snapshot(FakeHub(), [])
    assert (shown.full, shown.light, shown.rows) == ("[]", "", [])


def test_sessions_of_one_cycle_share_each_symbols_piece_and_a_new_cycle_makes_them_again():
    hub, pieces = FakeHub(), snapshot.Fragments()
    a = pieces.snapshot(hub, ["AAPL", "TSLA"])
    b = pieces.snapshot(hub, ["TSLA"])
    assert pieces.made == 2 and hub.reads == [["AAPL", "TSLA"]]
    assert b.rows[0] is a.rows[1]  # the same row, not a copy
    hub.cycle = 2
    c = pieces.snapshot(hub, ["TSLA"])
    assert pieces.made == 3 and c.cycle == 2 and c.rows[0] is not a.rows[1]
    assert c.full == expected(hub, ["TSLA"])[0]


def test_a_cycle_published_while_reading_is_read_again_so_all_rows_are_of_one_cycle():
    hub, pieces = FakeHub(), snapshot.Fragments()
    pieces.snapshot(hub, ["AAPL"])  # AAPL kept at cycle 1
    hub.publish_on_read = 1  # the next read lands in cycle 2
    shown = pieces.snapshot(hub, ["AAPL", "TSLA"])
    assert shown.cycle == hub.cycle == 2
    assert shown.full == expected(hub, ["AAPL", "TSLA"])[0]


def test_a_hub_that_keeps_publishing_still_gets_one_consistent_board():
    hub, pieces = FakeHub(), snapshot.Fragments()
    hub.publish_on_read = 3  # every try of Fragments.TRIES sees a new cycle
    shown = pieces.snapshot(hub, ["AAPL", "TSLA"])
    assert shown.cycle == hub.cycle
    assert shown.full == expected(hub, ["AAPL", "TSLA"])[0]


def test_one_set_of_pieces_per_hub():
    one, other = FakeHub(), FakeHub()
    assert snapshot.fragments_of(one) is snapshot.fragments_of(one)
    assert snapshot.fragments_of(other) is not snapshot.fragments_of(one)

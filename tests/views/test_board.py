"""The board's Python side (app.views.board): what it keeps of its snapshot."""

from __future__ import annotations

import json

from bokeh.document import Document

from app.views.board import BoardView

DAY = [[1_800_000_000.0 + 60 * m, 100.0 + m % 7] for m in range(240)]


def _board_in(doc: Document) -> tuple[BoardView, object]:
    board = BoardView()
    root = board.get_root(doc)
    doc.add_root(root)
    return board, root


def test_forget_points_keeps_the_rows_without_their_points():
    board, root = _board_in(Document())
    rows = [{"symbol": "AAPL", "price": "$101.00", "points": DAY},
            {"symbol": "TSLA", "price": "—", "points": []}]
    board.rows = rows
    assert json.loads(root.data.snapshot) == rows  # what a browser pulling now gets
    full = len(board.snapshot)
    board.forget_points()
    kept = [{"symbol": "AAPL", "price": "$101.00"}, {"symbol": "TSLA", "price": "—"}]
    assert board.rows == kept
    assert json.loads(root.data.snapshot) == kept  # the document's copy too
    assert root.data.snapshot is board.snapshot
    assert len(board.snapshot) < full / 50
    board.forget_points()  # again: nothing more to forget
    assert board.rows == kept


def test_forgetting_changes_nothing_the_browser_is_sent():
    doc = Document()
    board, root = _board_in(doc)
    board.rows = [{"symbol": "AAPL", "points": DAY}]
    events = []
    doc.on_change(events.append)
    board.forget_points()
    assert "points" not in json.loads(root.data.snapshot)[0]  # the model changed...
    assert events == []  # ...and no change event went to the document's listeners
    root.data.snapshot = root.data.snapshot + " "  # (which do hear a plain change)
    assert [e.attr for e in events] == ["snapshot"]


def test_a_snapshot_set_after_forgetting_reaches_the_model():
    board, root = _board_in(Document())
    board.rows = [{"symbol": "AAPL", "last": 1.0, "points": DAY}]
    board.forget_points()
    # The same rows again, with no points at all: equal in content to what was kept,
    # still a change (a browser showing another board must get it).
    board.rows = [{"symbol": "AAPL", "last": 1.0, "points": []}]
    assert json.loads(root.data.snapshot) == [{"symbol": "AAPL", "last": 1.0, "points": []}]
    board.rows = [{"symbol": "AAPL", "last": 2.0, "points": DAY}]
    assert json.loads(root.data.snapshot)[0]["points"] == DAY


def test_an_empty_board_has_nothing_to_forget():
    board, root = _board_in(Document())
    board.rows = []
    board.forget_points()
    assert board.snapshot == root.data.snapshot == "[]"

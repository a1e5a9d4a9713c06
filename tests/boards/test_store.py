"""The board store (app/boards/store.py) and the rules of a board (app/boards/fields.py)."""

from __future__ import annotations

import threading

import pytest

from app.boards.fields import Board, BoardError, board_from_json, board_name
from app.boards.store import MAX_BOARDS, BoardStore


@pytest.fixture
def store(tmp_path):
    s = BoardStore(tmp_path / "boards.sqlite3")
    yield s
    s.close()


def test_a_board_comes_back_as_saved_with_its_order(store):
    saved = store.put("alice", Board("tech", ("NVDA", "AAPL", "MSFT"), "-change",
                                     "AAPL>230.5,NVDA~2%", "dark"))
    assert saved.updated_at > 0
    got = store.get("alice", "tech")
    assert got == Board("tech", ("NVDA", "AAPL", "MSFT"), "-change", "AAPL>230.5,NVDA~2%",
                        "dark")
    assert store.get("bob", "tech") is None  # one user's boards are theirs
    assert store.names("alice") == ["tech"] and store.names("bob") == []


def test_a_save_replaces_the_board_and_keeps_its_name_case(store):
    store.put("alice", Board("Tech", ("AAPL",)))
    store.put("alice", Board("tech", ("TSLA", "AAPL"), "symbol"))
    assert store.names("alice") == ["Tech"]
    assert store.get("alice", "TECH").symbols == ("TSLA", "AAPL")


def test_another_process_sees_a_save_at_once(store, tmp_path):
    store.put("alice", Board("a", ("AAPL",)))
    other = BoardStore(tmp_path / "boards.sqlite3")
    assert other.get("alice", "a").symbols == ("AAPL",)
    other.put("alice", Board("a", ("TSLA",)))
    assert store.get("alice", "a").symbols == ("TSLA",)


def test_reads_on_another_thread_use_their_own_connection(store):
    store.put("alice", Board("a", ("AAPL",)))
    seen = []
    t = threading.Thread(target=lambda: seen.append(store.get("alice", "a")))
    t.start()
    t.join()
    assert seen[0].symbols == ("AAPL",)


def test_last_used_falls_back_to_the_first_board(store):
    assert store.last_used("alice") is None
    store.put("alice", Board("b", ("AAPL",)))
    store.put("alice", Board("a", ("TSLA",)))
    assert store.last_used("alice").name == "a"
    store.set_last_used("alice", "b")
    assert store.last_used("alice").name == "b"
    assert store.delete("alice", "b") and not store.delete("alice", "b")
    assert store.last_used("alice").name == "a"


def test_rename_moves_the_board_and_the_last_used_mark(store):
    store.put("alice", Board("a", ("AAPL",)))
    store.put("alice", Board("b", ("TSLA",)))
    store.set_last_used("alice", "a")
    assert store.rename("alice", "a", "c").symbols == ("AAPL",)
    assert store.names("alice") == ["b", "c"] and store.last_used("alice").name == "c"
    with pytest.raises(BoardError, match="already"):
        store.rename("alice", "c", "B")
    with pytest.raises(BoardError, match="no such"):
        store.rename("alice", "zz", "d")
    assert store.rename("alice", "c", "C").name == "C"  # only the case changes


def test_a_user_keeps_at_most_so_many_boards(store):
    for i in range(MAX_BOARDS):
        store.put("alice", Board(f"b{i}", ("AAPL",)))
    with pytest.raises(BoardError, match="at most"):
        store.put("alice", Board("one-more", ("AAPL",)))
    store.put("alice", Board("b0", ("TSLA",)))  # replacing one is fine
    store.put("bob", Board("b0", ("TSLA",)))


def test_alerts_of_every_saved_board_are_listed(store):
    store.put("alice", Board("a", ("AAPL",), alerts="AAPL>1"))
    store.put("alice", Board("quiet", ("AAPL",)))
    store.put("bob", Board("b", ("NVDA",), alerts="NVDA~2%"))
    assert list(store.alerts()) == [("alice", "a", "AAPL>1"), ("bob", "b", "NVDA~2%")]


def test_a_failed_write_leaves_the_board_as_it_was(store):
    store.put("alice", Board("a", ("AAPL",)))
    with pytest.raises(RuntimeError), store._transaction() as db:
        db.execute("UPDATE boards SET symbols = 'X'")
        raise RuntimeError("boom")
    assert store.get("alice", "a").symbols == ("AAPL",)


# -- the rules ------------------------------------------------------------------
def test_a_board_from_json_is_normalised():
    board = board_from_json(" tech ", {"symbols": ["nvda", "AAPL", "nvda"], "sort": "-Change",
                                       "alerts": "aapl>230.50, NVDA~2%", "theme": "dark"}, 50)
    assert board == Board("tech", ("NVDA", "AAPL"), "-change", "AAPL>230.5,NVDA~2%", "dark")
    assert board_from_json("x", {"symbols": []}, 50) == Board("x")


@pytest.mark.parametrize(("body", "says"), [
    ([], "JSON object"),
    ({}, "symbols must be a list"),
    ({"symbols": "AAPL"}, "symbols must be a list"),
    ({"symbols": [1]}, "symbols must be a list"),
    ({"symbols": ["<script>alert(1)</script>"]}, "not ticker symbols"),
    ({"symbols": ["AAPL", "TSLA", "MSFT"]}, "at most 2"),
    ({"symbols": ["AAPL"], "sort": "price"}, "sort must be"),
    ({"symbols": ["AAPL"], "alerts": "AAPL>>1"}, "1 malformed"),
    ({"symbols": ["AAPL"], "alerts": "TSLA<200"}, "not on the board"),
    ({"symbols": ["AAPL"], "theme": "pink"}, "theme must be"),
    ({"symbols": ["AAPL"], "shared": "yes"}, "shared must be"),
    ({"symbols": ["AAPL"], "colour": "red"}, "unknown field"),
    ({"symbols": ["AAPL"], "alerts": 5}, "alerts must be text"),
])
def test_a_bad_board_is_refused_in_one_line_that_repeats_no_input(body, says):
    with pytest.raises(BoardError) as err:
        board_from_json("b", body, 2)
    message = str(err.value)
    assert says in message and "\n" not in message
    assert not any(bad in message for bad in ("<script", ">>", "colour", "pink", "TSLA"))


@pytest.mark.parametrize("raw", ["", " ", "x" * 41, "a/b", "a.b", "<b>", "ü"])
def test_board_names_are_short_and_plain(raw):
    with pytest.raises(BoardError, match="1 to 40"):
        board_name(raw)


def test_board_names_may_hold_spaces_dashes_and_underscores():
    assert board_name(" My tech_2-x ") == "My tech_2-x"
    assert board_name("x" * 40) == "x" * 40

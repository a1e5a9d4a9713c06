"""Which board a page opens (app/views/boards.py ``choose``), and its keeper's saves."""

from __future__ import annotations

import param
import pytest

from app.boards.fields import Board
from app.boards.store import BoardStore
from app.views.boards import Keeper, choose
from tests.support import wait_until


@pytest.fixture
def store(tmp_path):
    s = BoardStore(tmp_path / "boards.sqlite3")
    yield s
    s.close()


def args(**given: str) -> dict[str, str | None]:
    keys = ("board", "owner", "symbols", "sort", "alerts", "theme")
    return {k: given.get(k) for k in keys}


def test_without_a_store_or_a_user_a_board_is_the_urls(store):
    assert choose(args(board="tech"), "alice", None).board is None
    assert choose(args(board="tech"), None, store).board is None


def test_url_keys_without_board_open_an_unsaved_board(store):
    store.put("alice", Board("main", ("NVDA",)))
    for key in ("symbols", "sort", "alerts"):
        opening = choose(args(**{key: "AAPL"}), "alice", store)
        assert opening.board is None and not opening.save_now
    assert choose(args(symbols=""), "alice", store).board is None  # an emptied board too


def test_plain_app_opens_the_last_board_or_a_new_main(store):
    first = choose(args(), "alice", store)
    assert first.board.name == "main" and first.new and first.save_now
    store.put("alice", Board("a", ("NVDA",)))
    store.put("alice", Board("b", ("TSLA",)))
    store.set_last_used("alice", "b")
    opening = choose(args(), "alice", store)
    assert opening.board.symbols == ("TSLA",) and not opening.new and not opening.save_now
    assert opening.names == ("a", "b")


def test_board_opens_a_saved_board_whatever_the_other_keys_say(store):
    store.put("alice", Board("tech", ("NVDA", "AMD"), "-change", "NVDA~2%", "dark"))
    opening = choose(args(board="tech", symbols="AAPL"), "alice", store)
    assert opening.board.symbols == ("NVDA", "AMD") and not opening.new
    assert opening.theme == "dark"
    new = choose(args(board="fresh", symbols="AAPL"), "alice", store)
    assert new.new and new.board.name == "fresh"
    assert new.names == ("fresh", "tech")


def test_theme_in_the_url_sets_the_boards(store):
    store.put("alice", Board("tech", ("NVDA",)))
    opening = choose(args(board="tech", theme="dark"), "alice", store)
    assert opening.theme == "dark" and opening.board.theme == "dark"
    assert opening.save_now and not opening.new


def test_a_bad_board_name_opens_an_unsaved_board_with_a_notice(store):
    opening = choose(args(board="<img src=x onerror=alert(1)>"), "alice", store)
    assert opening.board is None and "Not a board name" in opening.notice
    assert "<img" not in opening.notice


def test_another_users_board_opens_read_only_only_when_shared(store):
    store.put("bob", Board("tech", ("NVDA",)))
    closed = choose(args(board="tech", owner="bob"), "alice", store)
    assert closed.board is None and closed.notice == "There is no such shared board."
    store.put("bob", Board("tech", ("NVDA",), shared=True))
    shared = choose(args(board="tech", owner="bob"), "alice", store)
    assert shared.read_only and shared.owner == "bob" and shared.board.symbols == ("NVDA",)
    own = choose(args(board="tech", owner="alice"), "alice", store)  # one's own link
    assert not own.read_only and own.new


class FakeDashboard(param.Parameterized):
    """The three params of a Dashboard a keeper reads."""

    symbols = param.List(default=["AAPL"])
    sort = param.String(default="")
    alerts = param.String(default="")


def test_the_keeper_saves_what_the_dashboard_holds(store):
    dash = FakeDashboard()
    keeper = Keeper(store, "alice", Board("main", theme="dark"))
    keeper.watch(dash)
    dash.param.update(symbols=["NVDA", "AAPL"], sort="-change", alerts="NVDA~2%")
    keeper.save().result(timeout=10)
    assert store.get("alice", "main") == Board("main", ("NVDA", "AAPL"), "-change",
                                               "NVDA~2%", "dark")
    keeper.stopped = True  # renamed or deleted: nothing more is written
    dash.symbols = ["TSLA"]
    keeper.save().result(timeout=10)
    assert store.get("alice", "main").symbols == ("NVDA", "AAPL")


def test_the_switcher_shares_and_refuses_bad_names(store):
    from app.views.boards import BoardSwitcher, Opening

    board = store.put("alice", Board("tech", ("NVDA",)))
    keeper = Keeper(store, "alice", board)
    bar = BoardSwitcher(Opening(board, "alice", names=("main", "tech")), store, keeper)
    assert bar.mode == "edit" and bar.link == ""
    bar._handle_msg({"type": "share", "on": True})
    assert bar.link == "?board=tech&owner=alice"
    wait = keeper.save()
    wait.result(timeout=10)
    assert store.get("alice", "tech").shared
    bar._handle_msg({"type": "create", "name": "<b>x</b>"})
    assert bar.note == "a board name is 1 to 40 letters, digits, spaces, _ or -."
    bar._handle_msg({"type": "create", "name": "MAIN"})
    assert bar.note == "There is a board of that name already."
    bar._handle_msg({"type": "delete"})  # "main" is left: allowed, and tech goes
    wait_until(lambda: store.get("alice", "tech") is None, what="tech deleted")


def test_the_switcher_of_a_read_only_board_does_nothing(store):
    from app.views.boards import BoardSwitcher, Opening

    board = store.put("bob", Board("tech", ("NVDA",), shared=True))
    bar = BoardSwitcher(Opening(board, "bob", read_only=True), store, None)
    assert bar.mode == "read" and bar.owner == "bob"
    bar._handle_msg({"type": "delete"})
    bar._handle_msg({"type": "share", "on": False})
    assert store.get("bob", "tech").shared

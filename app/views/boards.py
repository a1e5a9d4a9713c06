"""Saved boards on the page: which board a session opens, saving it as it changes, and
the switcher (pick, create, rename, delete, share).

* ``?board=NAME`` opens the user's board NAME (made from the URL's keys, or the
  defaults, if there is none); ``?board=NAME&owner=USER`` opens USER's board
  read-only, if USER shared it.
* Plain ``/app`` opens the board the user last opened (their first, or a new
  ``main``, if none).
* ``?symbols=``, ``?sort=`` or ``?alerts=`` without ``?board=`` open an unsaved board
  exactly as before: nothing is read or written.

The board's symbols, sort and alerts live in the :class:`Dashboard`'s params; a
:class:`Keeper` watches them and saves a second after the last change, on the store's
own thread (:mod:`app.boards.service`). Switching boards loads the page again, as
``?board=NEW``: the new board's theme needs a new page anyway.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import quote

import panel as pn
import param
from tornado.ioloop import IOLoop

from app.access.identity import policy
from app.boards import service
from app.boards.fields import (
    FIRST_BOARD,
    LOCAL_USER,
    Board,
    BoardError,
    board_name,
    theme_from_arg,
)
from app.boards.store import BoardStore, StoreError
from app.views.esm import SharedSourceComponent
from app.views.urlstate import with_query

log = logging.getLogger(__name__)

#: Seconds after the last change a board is saved.
SAVE_AFTER_S = 1.0
#: The URL keys of an unsaved board.
URL_KEYS = ("symbols", "sort", "alerts")

_HERE = Path(__file__).parent

CSS = """
:host{display:block}
.photon-boards{display:flex;flex-wrap:wrap;align-items:center;gap:.4em .8em;
  font-size:.9em;margin:.2em .4em}
.photon-board-field{display:inline-flex;align-items:center;gap:.3em}
.photon-boards select,.photon-boards input:not([type=checkbox]),.photon-boards button{
  font:inherit;padding:.15em .4em;color:inherit;background:light-dark(#fff,#161a22);
  border:1px solid light-dark(#d1d5db,#374151);border-radius:4px}
.photon-boards button{cursor:pointer}
.photon-boards a{color:inherit}
.photon-board-note{margin:0}
"""


@dataclass(frozen=True)
class Opening:
    """What board a session opens. ``board`` None: an unsaved board (the URL's)."""

    board: Board | None = None
    owner: str | None = None
    read_only: bool = False
    new: bool = False  # not in the store yet: opens with the URL's keys, or the defaults
    save_now: bool = False  # new, or its theme set by ?theme=: saved once the page is built
    theme: str = "auto"
    names: tuple[str, ...] = ()  # the user's boards, for the switcher
    notice: str = ""


def page_owner() -> str | None:
    """Whose boards this session's are: the signed-in user, the local user with sign-in
    off, None for nobody."""
    if not policy().on:
        return LOCAL_USER
    return pn.state.user or None


def choose(args: Mapping[str, str | None], owner: str | None,
           store: BoardStore | None) -> Opening:
    """The board a page with the URL keys ``args`` (None: absent) opens for ``owner``."""
    url_theme = args.get("theme")
    unsaved = Opening(theme=theme_from_arg(url_theme))
    raw_board = args.get("board")
    if store is None or owner is None:
        return unsaved
    if raw_board is None and any(args.get(k) is not None for k in URL_KEYS):
        return unsaved  # today's shareable URL: never read nor written
    try:
        names = tuple(store.names(owner))
        if raw_board is None:
            board = store.last_used(owner) or Board(FIRST_BOARD)
        else:
            name = board_name(raw_board)
            other = (args.get("owner") or "").strip()
            if other and other != owner:
                return _shared(store, other, name, url_theme, unsaved)
            board = store.get(owner, name) or Board(name)
    except BoardError as exc:
        return replace(unsaved, notice=f"Not a board name: {exc}.")
    except StoreError as exc:
        log.warning("saved boards unreadable: %s", exc)
        return replace(unsaved, notice="Saved boards cannot be read just now.")
    new = save_now = board.updated_at == 0
    if url_theme is not None and theme_from_arg(url_theme) != board.theme:
        board, save_now = replace(board, theme=theme_from_arg(url_theme)), True
    return Opening(board, owner, False, new, save_now, board.theme,
                   tuple(sorted({*names, board.name}, key=str.lower)))


def _shared(store: BoardStore, other: str, name: str, url_theme: str | None,
            unsaved: Opening) -> Opening:
    board = store.get(other, name)
    if board is None or not board.shared:
        return replace(unsaved, notice="There is no such shared board.")
    theme = theme_from_arg(url_theme) if url_theme is not None else board.theme
    return Opening(board, other, True, theme=theme)


class Keeper:
    """Saves a dashboard's board a second after its last change, off the event loop."""

    def __init__(self, store: BoardStore, owner: str, board: Board):
        self.store, self.owner, self.board = store, owner, board
        self._dashboard = None
        self._due = None
        self.stopped = False  # the board is being renamed or deleted: save nothing more

    def watch(self, dashboard) -> None:
        self._dashboard = dashboard
        dashboard.param.watch(lambda *_events: self.changed(), ["symbols", "sort", "alerts"])

    def current(self) -> Board:
        """The board as the dashboard holds it now."""
        d = self._dashboard
        if d is None:
            return self.board
        return replace(self.board, symbols=tuple(d.symbols), sort=d.sort, alerts=d.alerts)

    def changed(self) -> None:
        if self.stopped:
            return
        loop = IOLoop.current()
        if self._due is not None:
            loop.remove_timeout(self._due)
        self._due = loop.call_later(SAVE_AFTER_S, self.save)

    def save(self):
        """Save now (on the store's thread); the future of the write."""
        if self._due is not None:
            IOLoop.current().remove_timeout(self._due)
            self._due = None
        self.board = self.current()
        if self.stopped:
            return service.submit(lambda: None)
        future = service.submit(self.store.put, self.owner, self.board)
        future.add_done_callback(_log_failure)
        return future

    def pending(self) -> bool:
        return self._due is not None

    def start(self, dashboard, save_now: bool) -> None:
        """Watch ``dashboard``; save at once if the board is new; mark it last used."""
        self.watch(dashboard)
        if save_now:
            self.save()
        service.submit(self.store.set_last_used, self.owner, self.board.name)


def _log_failure(future) -> None:
    if (exc := future.exception()) is not None:
        log.warning("a board was not saved: %s", exc)


class BoardSwitcher(SharedSourceComponent):
    """Pick a board, make a new one, rename or delete this one, share it read-only: one
    JS component (``boards.js``), so a page gains one Bokeh model, not a row of widgets."""

    mode = param.Selector(default="edit", objects=["edit", "read", "note"], doc="edit: "
                          "the user's own board; read: another's, shared; note: no board, "
                          "only the note.")
    names = param.List(default=[], item_type=str, doc="The user's boards, A to Z.")
    current = param.String(default="", doc="The open board's name.")
    owner = param.String(default="", doc="Whose board it is (shown when read-only).")
    shared = param.Boolean(default=False, doc="Others may open it read-only.")
    link = param.String(default="", doc="The share link (relative), while shared.")
    note = param.String(default="", doc="A notice (plain text).")

    _esm = (_HERE / "boards.js").read_text()
    _stylesheets = [CSS]

    def __init__(self, opening: Opening, store: BoardStore | None, keeper: Keeper | None,
                 **params):
        mode = "read" if opening.read_only else "edit" if keeper is not None else "note"
        board = opening.board
        super().__init__(mode=mode, names=list(opening.names),
                         current=board.name if board else "", owner=opening.owner or "",
                         shared=bool(board and board.shared), note=opening.notice,
                         sizing_mode="stretch_width", margin=0, **params)
        self._store, self._keeper = store, keeper
        self.link = self._link()

    def _link(self) -> str:
        if self._keeper is None or not self.shared:
            return ""
        return f"?board={quote(self.current)}&owner={quote(self._keeper.owner)}"

    def _handle_msg(self, data) -> None:
        if self.mode != "edit" or not isinstance(data, dict):
            return
        kind, name = data.get("type"), str(data.get("name") or "")[:100]
        if kind == "open":
            self.open(name)
        elif kind == "create":
            self.create(name)
        elif kind == "rename":
            self.rename_to(name)
        elif kind == "delete":
            self.delete()
        elif kind == "share":
            self.share(data.get("on") is True)

    def say(self, text: str = "") -> None:
        self.note = text

    def go(self, name: str, save: bool = True) -> None:
        """Open board ``name``: the page loads again as ``?board=NAME``, once the open
        board's last change is saved."""
        if save and self._keeper is not None:
            self._keeper.save()
        # The store's one thread runs what was submitted in order: once this no-op has
        # run, the save has been written, and the next page reads it.
        self._after(service.submit(lambda: None),
                    lambda _r: self._send_msg({"go": f"?board={quote(name)}"}))

    def _after(self, future, then, failed: str = "") -> None:
        """Run ``then(result)`` on this session's loop once ``future`` is done; on an
        error, say ``failed`` and the reason instead."""
        doc = pn.state.curdoc

        def done(f) -> None:
            def on_loop() -> None:
                exc = f.exception()
                if exc is None:
                    then(f.result())
                    return
                if self._keeper is not None:
                    self._keeper.stopped = False
                self.say(f"{failed}{exc}.")
            if doc is not None and doc.session_context is not None:
                doc.add_next_tick_callback(on_loop)
            else:
                on_loop()

        future.add_done_callback(done)

    def open(self, name: str) -> None:
        if name in self.names and name != self.current:
            self.go(name)

    def create(self, raw: str) -> None:
        try:
            name = board_name(raw)
        except BoardError as exc:
            self.say(f"{exc}.")
            return
        if name.lower() in (n.lower() for n in self.names):
            self.say("There is a board of that name already.")
            return
        self.go(name)  # ?board=NAME makes it, from the defaults

    def rename_to(self, raw: str) -> None:
        keeper = self._keeper
        keeper.save()  # the last change first, under the old name
        keeper.stopped = True
        self._after(service.submit(self._store.rename, keeper.owner, self.current, raw),
                    lambda board: self.go(board.name, save=False), "Not renamed: ")

    def delete(self) -> None:
        others = [n for n in self.names if n != self.current]
        if not others:
            self.say("This is your only board: make another before deleting it.")
            return
        keeper = self._keeper
        keeper.stopped = True
        self._after(service.submit(self._store.delete, keeper.owner, self.current),
                    lambda _gone: self.go(others[0], save=False), "Not deleted: ")

    def share(self, on: bool) -> None:
        self._keeper.board = replace(self._keeper.board, shared=on)
        self._keeper.save()
        self.param.update(shared=on, link="")
        self.link = self._link()


class SavedBoard:
    """One session's saved board: what it opens, its keeper and its switcher."""

    def __init__(self, args: Mapping[str, str | None]):
        self.store = service.get()
        self.owner = page_owner()
        self.opening = choose(args, self.owner, self.store)
        o = self.opening
        own = o.board is not None and not o.read_only and self.store is not None
        self.keeper = Keeper(self.store, o.owner, o.board) if own else None
        self.switcher = (BoardSwitcher(o, self.store, self.keeper)
                         if o.board is not None or o.notice else None)

    @property
    def from_store(self) -> bool:
        """Does the page open a board from the store (not the URL's keys or defaults)?"""
        return self.opening.board is not None and not self.opening.new

    def show_in_url(self) -> None:
        """Put ``?board=NAME`` in the page's URL (before the dashboard mirrors its keys
        there), so a reload opens the saved board again, not an unsaved copy."""
        loc, board = pn.state.location, self.opening.board
        if loc is None or board is None or self.opening.read_only:
            return

        def mark() -> None:
            loc.search = with_query(loc.search, board=board.name)

        mark()
        # Again once the browser is connected: its Location then sends its own URL, and
        # the dashboard mirrors its keys onto that (this runs first: registered first).
        pn.state.onload(mark)

    @property
    def toolbar(self) -> list:
        """What goes above the board ([] for an unsaved board with nothing to say)."""
        return [self.switcher] if self.switcher is not None else []

    def start(self, dashboard) -> None:
        """Keep ``dashboard``'s board saved (an own board), from now on."""
        if self.keeper is not None:
            self.keeper.start(dashboard, self.opening.save_now)
            pn.state.on_session_destroyed(lambda _ctx: self.keeper.save()
                                          if self.keeper.pending() else None)

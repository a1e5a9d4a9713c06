"""``/api/boards``: a user's saved boards as JSON, for the signed-in user or a token.

``GET /api/boards`` lists the caller's board names; ``GET/PUT/DELETE
/api/boards/NAME`` reads, saves (whole) and deletes one. ``GET
/api/boards/NAME?owner=USER`` reads another user's board if they shared it, and
nothing else of theirs: writing with ``?owner=`` someone else is a 403. An API token
acts for the user of its name (``photon tokens add alice``); with sign-in off every
caller is the one local user.

Bad input is a 400 with one plain-text line that names the field and repeats
nothing of the input; a body over :data:`MAX_BODY` bytes is a 413; a PUT must say
``Content-Type: application/json`` (which a cross-site form cannot send without
asking first). The SQLite work runs on the store's own thread.
"""

from __future__ import annotations

import json
from typing import Any

from tornado.web import RequestHandler

from app.access.identity import Guarded, policy
from app.boards import service
from app.boards.fields import LOCAL_USER, BoardError, board_from_json, board_name
from app.boards.store import StoreError
from app.config import get_settings

#: Largest PUT body read (fifty symbols and a hundred alerts fit in a few KiB).
MAX_BODY = 16 * 1024


def owner_of(handler: RequestHandler) -> str:
    """Whose boards the caller's are: their name, or the one local user with sign-in off."""
    return str(handler.current_user) if policy().on else LOCAL_USER


class _BoardsApi(Guarded, RequestHandler):
    """What both routes share: JSON out, one-line errors, the store or a 503."""

    def set_default_headers(self) -> None:
        self.set_header("Cache-Control", "no-store")

    def fail(self, status: int, line: str) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(line + "\n")

    def answer(self, body: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body, separators=(",", ":")))

    def store_or_fail(self):
        store = service.get()
        if store is None:
            self.fail(503, "saved boards are off on this server (PHOTON_BOARDS)")
        return store


class BoardsHandler(_BoardsApi):
    """``GET /api/boards``: ``{"boards": [names, A to Z]}``."""

    async def get(self) -> None:
        if (store := self.store_or_fail()) is None:
            return
        try:
            names = await service.run(store.names, owner_of(self))
        except StoreError:
            self.fail(503, "the board store cannot be read just now")
            return
        self.answer({"boards": names})


class BoardHandler(_BoardsApi):
    """``GET/PUT/DELETE /api/boards/NAME`` (and ``GET ...?owner=USER``: read-only)."""

    def name_and_owner(self, raw: str) -> tuple[str, str] | None:
        """The board name and whose board, or None after answering the refusal."""
        try:
            name = board_name(raw)
        except BoardError as exc:
            self.fail(400, str(exc))
            return None
        me = owner_of(self)
        owner = (self.get_query_argument("owner", "") or "").strip() or me
        if len(owner) > 200:
            self.fail(400, "owner is not a user name")
            return None
        if owner != me and self.request.method != "GET":
            self.fail(403, "another user's board is read-only")
            return None
        return name, owner

    async def get(self, raw: str) -> None:
        if (found := self.name_and_owner(raw)) is None or (
                store := self.store_or_fail()) is None:
            return
        name, owner = found
        try:
            board = await service.run(store.get, owner, name)
        except StoreError:
            self.fail(503, "the board store cannot be read just now")
            return
        if board is None or (owner != owner_of(self) and not board.shared):
            self.fail(404, "no such board")  # the same whether it exists or is not shared
            return
        self.answer({**board.as_json(), "owner": owner})

    async def put(self, raw: str) -> None:
        if (found := self.name_and_owner(raw)) is None or (
                store := self.store_or_fail()) is None:
            return
        name, owner = found
        if len(self.request.body) > MAX_BODY:
            self.fail(413, f"a board is at most {MAX_BODY} bytes of JSON")
            return
        kind = self.request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if kind != "application/json":
            self.fail(415, "send the board as Content-Type: application/json")
            return
        try:
            body = json.loads(self.request.body or b"null")
        except (ValueError, UnicodeDecodeError):
            self.fail(400, "the body is not JSON")
            return
        try:
            board = board_from_json(name, body, get_settings().max_symbols)
            saved = await service.run(store.put, owner, board)
        except BoardError as exc:
            self.fail(400, str(exc))
            return
        except StoreError:
            self.fail(503, "the board store cannot be written just now")
            return
        self.answer({**saved.as_json(), "owner": owner})

    async def delete(self, raw: str) -> None:
        if (found := self.name_and_owner(raw)) is None or (
                store := self.store_or_fail()) is None:
            return
        name, owner = found
        try:
            gone = await service.run(store.delete, owner, name)
        except StoreError:
            self.fail(503, "the board store cannot be written just now")
            return
        if not gone:
            self.fail(404, "no such board")
            return
        self.set_status(204)
        self.finish()


ROUTES = [("/api/boards", BoardsHandler, {}), (r"/api/boards/([^/]+)", BoardHandler, {})]

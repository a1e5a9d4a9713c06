"""The process's board store, and the one thread its writes (and the API's reads) run on.

SQLite work never runs on the event loop, which belongs to every viewer's updates:
the API and the page's saves hand it to :data:`POOL`, a single thread (saves of one
process queue there in order; other processes queue in SQLite).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from app.boards.store import BoardStore, StoreError
from app.config import get_settings

log = logging.getLogger(__name__)
T = TypeVar("T")

POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="photon-boards")

_store: BoardStore | None = None
_opened = False
_lock = threading.Lock()


def get() -> BoardStore | None:
    """The store of ``PHOTON_BOARDS`` (opened on first use); None when it is off or
    cannot be opened (said once in the log: boards are then the URL's, as before)."""
    global _store, _opened
    with _lock:
        if not _opened:
            _opened = True
            path = get_settings().boards
            if path != "off":
                try:
                    _store = BoardStore(path)
                except StoreError as exc:
                    log.error("saved boards are off: %s", exc)
        return _store


def set_store(store: BoardStore | None) -> None:
    """Use ``store`` from now on (tests)."""
    global _store, _opened
    with _lock:
        _store, _opened = store, True


def submit(fn: Callable[..., T], *args) -> Future[T]:
    """Run ``fn(*args)`` on the store's thread."""
    return POOL.submit(fn, *args)


async def run(fn: Callable[..., T], *args) -> T:
    """Await ``fn(*args)`` run on the store's thread."""
    return await asyncio.wrap_future(submit(fn, *args))

"""The door of every session: a page builds one only if its client has a place left.

Hooks into the Bokeh server (installed once per process, like
:mod:`app.runtime.server_fixes`):

* a page (``GET /app``, ``/app/autoload.js``) reserves a place *before* its session
  is built - refused, it answers a short page: 429 "N Photon tabs are open for you;
  close one" or 503 "Photon is full, try again in a minute" with ``Retry-After``,
  and nothing is built;
* a socket (Bokeh's ``/app/ws``, the fast lane) whose session holds no place must
  take one, or is refused at the handshake with the same status;
* a session's place is freed when its Bokeh socket closes (at once: Bokeh reaps the
  closed session seconds later), or when Bokeh reaps a session whose page never
  connected.
* pages build their sessions one at a time (:func:`one_build_at_a_time`), so viewers'
  updates run between two builds.

Limits are per client (:mod:`app.access.clients`): the signed-in user, else the
address. :func:`app.access.clients.request_user` is the one place that names the
signed-in user.
"""

from __future__ import annotations

import asyncio
import html
import logging

from tornado.web import HTTPError, RequestHandler

from app.access.clients import client_of
from app.access.limits import Refusal, SessionLimits
from app.runtime import metrics

log = logging.getLogger(__name__)


class Refused(HTTPError):
    """A page refused by a limit: :func:`write_refusal` renders it."""

    def __init__(self, refusal: Refusal):
        super().__init__(refusal.status)
        self.refusal = refusal


_gate: SessionLimits | None = None


def install(per_client: int, total: int) -> SessionLimits:
    """Limit sessions from now on (and patch Bokeh's handlers, once)."""
    global _gate, _build_lock
    _gate = SessionLimits(per_client, total)
    _build_lock = None  # made on the server's loop at its first use
    _patch_bokeh()
    return _gate


def get() -> SessionLimits | None:
    return _gate


def uninstall() -> None:
    global _gate
    _gate = None


def _count(refusal: Refusal) -> None:
    metrics.observe_refused("session_client" if refusal.status == 429 else "session_process")


async def reserve_page(handler: RequestHandler) -> str | None:
    """A reservation for the session ``handler``'s page is about to build (None: no
    limits here); raises :class:`Refused` when its client has no place left."""
    gate = _gate
    if gate is None:
        return None
    place, refusal = gate.reserve(await client_of(handler))
    if refusal is not None:
        _count(refusal)
        raise Refused(refusal)
    return place


async def admit_socket(handler: RequestHandler, session_id: str) -> Refusal | None:
    """None if ``session_id`` holds a place or its socket's client can take one; else why not."""
    gate = _gate
    if gate is None or gate.holds(session_id):
        return None
    refusal = gate.admit(await client_of(handler), session_id)
    if refusal is not None:
        _count(refusal)
    return refusal


def release(session_id: str) -> None:
    if (gate := _gate) is not None:
        gate.release(session_id)


def refusal_page(refusal: Refusal) -> str:
    """The short page a refused viewer sees."""
    title = "Too many Photon tabs" if refusal.status == 429 else "Photon is full"
    text = html.escape(refusal.message)
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{title}</title></head><body><main><h1>{title}</h1><p>{text}</p>"
            "</main></body></html>\n")


def write_refusal(handler: RequestHandler, refusal: Refusal, page: bool = True) -> None:
    """Answer ``handler``'s request with ``refusal`` (an HTML page, or one line of text)."""
    handler.clear()
    handler.set_status(refusal.status)
    handler.set_header("Cache-Control", "no-store")
    if refusal.retry_after_s is not None:
        handler.set_header("Retry-After", str(refusal.retry_after_s))
    if page:
        handler.set_header("Content-Type", "text/html; charset=utf-8")
        handler.finish(refusal_page(refusal))
    else:
        handler.set_header("Content-Type", "text/plain; charset=utf-8")
        handler.finish(refusal.message + "\n")


_build_lock: asyncio.Lock | None = None


def one_build_at_a_time() -> asyncio.Lock:
    """The lock every page's session build takes, so the event loop runs what is waiting
    (every viewer's updates) between two builds.

    A build is about 100 ms of CPU on the loop. Pages that arrive together are ready
    callbacks of one loop iteration: without the lock they run back to back, and the
    updates the hub's thread queued meanwhile wait for all of them (20 at once: 2 s).
    With it, each waiting build is woken in its own iteration, behind what queued
    during the previous build. (``bench.abuse --attack burst``: the viewer's longest gap
    2.9, 3.0, 1.7 s without, 1.3, 1.6, 1.7 s with, on a machine at load 6-11.)
    """
    global _build_lock
    if _build_lock is None:
        _build_lock = asyncio.Lock()
    return _build_lock


def socket_session_id(handler: RequestHandler) -> str | None:
    """The session id in a Bokeh socket's handshake (its token rides in the subprotocol
    header: ``bokeh, TOKEN``); None when there is none to read."""
    from bokeh.util.token import get_session_id

    parts = [p.strip() for p in handler.request.headers.get("Sec-WebSocket-Protocol",
                                                            "").split(",")]
    if len(parts) != 2 or not parts[1]:
        return None
    try:
        return get_session_id(parts[1])
    except Exception:  # noqa: BLE001 - a malformed token: Bokeh's own checks refuse it
        return None


def _patch_bokeh() -> None:
    """Reserve in Bokeh's ``SessionHandler.get_session`` (Panel's page and autoload
    handlers go through it), check sockets before Bokeh's upgrade, free places on a
    socket's close and on a session's end. Idempotent."""
    from bokeh.server.session import ServerSession
    from bokeh.server.views.session_handler import SessionHandler
    from bokeh.server.views.ws import WSHandler
    from tornado.websocket import WebSocketHandler

    if getattr(SessionHandler.get_session, "_photon_gate", False):
        return
    original_get_session = SessionHandler.get_session
    original_write_error = SessionHandler.write_error
    original_on_close = WSHandler.on_close
    original_destroy = ServerSession.destroy

    async def get_session(self):
        place = await reserve_page(self)
        try:
            async with one_build_at_a_time():
                session = await original_get_session(self)
        except BaseException:
            if place is not None:
                release(place)
            raise
        if place is not None and (gate := _gate) is not None:
            gate.settle(place, session.id)
        return session

    def write_error(self, status_code: int, **kwargs) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, Refused):
            write_refusal(self, exc.refusal)
            return
        original_write_error(self, status_code, **kwargs)

    async def ws_get(self, *args, **kwargs):
        session_id = socket_session_id(self)
        if session_id is not None:
            refusal = await admit_socket(self, session_id)
            if refusal is not None:
                write_refusal(self, refusal, page=False)
                return
            self._photon_session_id = session_id
        await WebSocketHandler.get(self, *args, **kwargs)

    def on_close(self) -> None:
        original_on_close(self)
        session_id = getattr(self, "_photon_session_id", None)
        if session_id is None:
            return
        try:
            others = self.application_context.get_session(session_id).connection_count
        except Exception:  # noqa: BLE001 - no such session (any more): nothing holds it
            others = 0
        if others == 0:
            release(session_id)  # the tab is gone: its place is free now

    def destroy(self) -> None:
        release(self.id)
        original_destroy(self)

    get_session._photon_gate = True  # type: ignore[attr-defined]
    SessionHandler.get_session = get_session  # type: ignore[method-assign]
    SessionHandler.write_error = write_error  # type: ignore[method-assign]
    WSHandler.get = ws_get  # type: ignore[method-assign]
    WSHandler.on_close = on_close  # type: ignore[method-assign]
    ServerSession.destroy = destroy  # type: ignore[method-assign]

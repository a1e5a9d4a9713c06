"""Who is calling: the one check every route Photon adds makes, before it does anything.

Panel's sign-in guards Panel's own handlers only; each route Photon adds (sockets,
``/history``, embeds, ``/metrics``, ``/health``) mixes in :class:`Guarded`, whose
``async prepare()`` reads the same identity Bokeh's handlers read (the signed ``user``
cookie, :func:`cookie_user`) or, where tools call, an ``Authorization: Bearer``
token (:mod:`app.access.tokens`). A page sends a stranger to ``/login``; an API
answers 401 (403 to a signed-in user who is not allowed); a socket is refused at
the handshake, before the upgrade. With ``PHOTON_AUTH=none`` every door is open.

Tornado only (no Panel, no Bokeh): :mod:`app.history` uses it too.
"""

from __future__ import annotations

import enum
import logging
import threading
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import quote

from tornado.web import RequestHandler

from app.access.allowed import is_allowed
from app.access.hashfile import HashFileError
from app.access.passwords import Users
from app.access.tokens import Tokens
from app.config import Settings, get_settings
from app.runtime.logs import RateLimitedLog

#: Days a sign-in cookie is good for (Panel's ``oauth_expiry`` default).
COOKIE_DAYS = 1.0
LOGIN_PATH = "/login"
LOGOUT_PATH = "/logout"


class Door(enum.Enum):
    """How a route refuses a caller it does not let in."""

    PAGE = "page"  # a redirect to /login
    API = "api"  # 401 / 403, and tokens count
    SOCKET = "socket"  # 401 / 403 before the WebSocket upgrade
    OPEN = "open"  # never refuses; the handler asks :func:`may_see_details`


@dataclass(frozen=True, slots=True)
class Caller:
    """Who made a request: a name (None: nobody we know) and whether they may come in."""

    name: str | None
    via: str  # "open" (sign-in off), "cookie", "token", "anonymous"
    allowed: bool


@dataclass(frozen=True)
class Policy:
    """Sign-in as the settings configure it, for the guards of one process."""

    mode: str = "none"
    allowed_users: tuple[str, ...] = ()
    users: Users | None = None
    tokens: Tokens | None = None
    embed_public: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        return cls(mode=settings.auth, allowed_users=settings.allowed_users,
                   users=Users(settings.users_file) if settings.users_file else None,
                   tokens=Tokens(settings.api_tokens_file) if settings.api_tokens_file
                   else None,
                   embed_public=settings.embed_public)

    @property
    def on(self) -> bool:
        return self.mode != "none"

    def allows(self, name: str) -> bool:
        """May the user ``name`` (signed in by password or provider) come in?"""
        if self.mode == "basic" and name not in _readable(self.users):
            return False  # a user since removed from the file
        return is_allowed(name, self.allowed_users)

    def token_name(self, token: str) -> str | None:
        """Whose API token ``token`` is (None: nobody's, or no usable tokens file)."""
        if self.tokens is None:
            return None
        try:
            return self.tokens.name_of(token)
        except (HashFileError, OSError) as exc:
            _broken.warning("tokens", "API tokens refused: %s", exc)
            return None


_broken = RateLimitedLog(logging.getLogger(__name__), interval_s=60.0)


def _readable(users: Users | None) -> frozenset[str]:
    """The users of the file; none while it cannot be used (a plain password written
    into it, say): sign-in fails closed, and the log says why, once a minute."""
    if users is None:
        return frozenset()
    try:
        return users.names()
    except (HashFileError, OSError) as exc:
        _broken.warning("users", "sign-in refused to everyone: %s", exc)
        return frozenset()


_policy: Policy | None = None
_lock = threading.Lock()


def policy() -> Policy:
    """The process's policy, from its settings on first use."""
    global _policy
    with _lock:
        if _policy is None:
            _policy = Policy.from_settings(get_settings())
        return _policy


def set_policy(new: Policy | None) -> None:
    """Use ``new`` from now on (tests; None: read the settings again)."""
    global _policy
    with _lock:
        _policy = new


def cookie_user(handler: RequestHandler) -> str | None:
    """The name in the request's signed ``user`` cookie (the one Panel and Bokeh read),
    None without one, or with one not signed by this server's secret."""
    raw = handler.get_secure_cookie("user", max_age_days=COOKIE_DAYS)
    if not raw:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def bearer_token(handler: RequestHandler) -> str | None:
    """The token of an ``Authorization: Bearer ...`` header, if any."""
    scheme, _, token = handler.request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def resolve(handler: RequestHandler, tokens_count: bool = True) -> Caller:
    """Who ``handler``'s request comes from (cached on the handler)."""
    # Cached per answer to "do tokens count?": Bokeh's own handlers ask without tokens
    # (signin.get_user) after the limits have asked with the route's own rule.
    cache: dict[bool, Caller] = handler.__dict__.setdefault("_photon_callers", {})
    if (cached := cache.get(tokens_count)) is not None:
        return cached
    pol = policy()
    if not pol.on:
        caller = Caller(None, "open", True)
    elif tokens_count and (token := bearer_token(handler)) is not None:
        name = pol.token_name(token)
        caller = Caller(name, "token", True) if name else Caller(None, "anonymous", False)
    elif (name := cookie_user(handler)) is not None:
        caller = Caller(name, "cookie", pol.allows(name))
    else:
        caller = Caller(None, "anonymous", False)
    cache[tokens_count] = caller
    return caller


def tokens_count(handler_class: type) -> bool:
    """Does an API token open this route? Only where tools call: the APIs and /health
    (pages, sockets and the embed are for browsers, which sign in)."""
    if not issubclass(handler_class, Guarded):  # Bokeh's and Panel's: browsers only
        return False
    door = handler_class.photon_door
    return door in (Door.API, Door.OPEN) and not handler_class.photon_embed


async def current_user(handler: RequestHandler) -> str | None:
    """The name of a caller who is let in (a user, or a token's name), else None: what
    per-client limits key on (with the address when None)."""
    caller = resolve(handler, tokens_count=tokens_count(type(handler)))
    return caller.name if caller.allowed else None


def may_see_details(handler: RequestHandler) -> bool:
    """Is the caller let in (signed in and allowed, a token, or sign-in off)?"""
    return resolve(handler).allowed


def login_redirect(handler: RequestHandler) -> str:
    """``/login?next=<this page>`` under the server's prefix."""
    prefix = str(getattr(handler.application, "prefix", "") or "").rstrip("/")
    return f"{prefix}{LOGIN_PATH}?next={quote(handler.request.uri or '/', safe='')}"


class Guarded:
    """Mix into every route Photon adds: ``class X(Guarded, RequestHandler)``.

    ``photon_door`` says how to refuse; ``photon_embed`` marks the embed's routes,
    which ``PHOTON_EMBED_PUBLIC=1`` opens to anyone.
    """

    photon_door: ClassVar[Door] = Door.API
    photon_embed: ClassVar[bool] = False

    async def prepare(self: Any) -> None:
        door = type(self).photon_door
        caller = resolve(self, tokens_count=tokens_count(type(self)))
        if caller.name is not None and caller.allowed:
            self.current_user = caller.name
        if caller.allowed or door is Door.OPEN or (type(self).photon_embed
                                                    and policy().embed_public):
            parent = super().prepare()  # type: ignore[misc]
            if parent is not None:
                await parent
            return
        refuse(self, door, caller)


def refuse(handler: Any, door: Door, caller: Caller) -> None:
    """Answer the request with the refusal of its door (the handler then does nothing)."""
    handler.set_header("Cache-Control", "no-store")
    if door is Door.PAGE and handler.request.method in ("GET", "HEAD"):
        handler.redirect(login_redirect(handler))
        return
    handler.set_header("Content-Type", "text/plain; charset=utf-8")
    if caller.name is None:
        handler.set_status(401)
        handler.set_header("WWW-Authenticate", 'Bearer realm="photon"')
        handler.finish("sign in first (or send Authorization: Bearer <token>)\n")
    else:
        handler.set_status(403)
        handler.finish("this user may not use Photon\n")


def require_guarded(routes: list[tuple]) -> list[tuple]:
    """``routes``, after checking each handler mixes in :class:`Guarded`: a route added
    without the check stops the server at start-up instead of serving prices to anyone."""
    for route in routes:
        handler = route[1]
        if not (isinstance(handler, type) and issubclass(handler, Guarded)):
            raise TypeError(f"route {route[0]} ({handler.__name__}) does not check who "
                            "calls: mix in app.access.identity.Guarded")
    return routes

"""Signing in and out: ``/login`` and ``/logout``, and who Bokeh's handlers see.

Bokeh loads :mod:`app.access.auth_module` (``BOKEH_AUTH_MODULE``), which takes
everything from here: its ``get_user`` is :func:`get_user` (the identity every
Photon route reads too, :mod:`app.access.identity`), so the board, its Bokeh socket
and Photon's own routes all let in the same people.

* ``basic``: our own form. A wrong password shows the form again with a message and
  status 401 (never a 500); the POST carries Tornado's anti-forgery token; ``next``
  only leads to a path on this server; bcrypt runs off the event loop.
* ``oauth``: Panel's provider handler, which then asks :func:`identity.Policy.allows`:
  someone the provider knows but PHOTON_ALLOWED_USERS does not gets a 403 page and
  no cookie.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from html import escape
from urllib.parse import urlsplit

from tornado.ioloop import IOLoop
from tornado.web import HTTPError, RequestHandler

from app.access import clients
from app.access.hashfile import HashFileError
from app.access.identity import COOKIE_DAYS, LOGIN_PATH, LOGOUT_PATH, policy, resolve
from app.access.rate import RateLimits, retry_after

log = logging.getLogger(__name__)

#: Cookies Panel's providers and our form set: all go at sign-out.
SIGN_IN_COOKIES = ("user", "id_token", "access_token", "refresh_token", "oauth_expiry",
                   "panel-oauth-state", "panel-oauth-code", "is_guest")


#: Password checks (bcrypt, cost 12: 0.24 s of CPU each here, on purpose) run one at a time on a
#: thread of their own: a flood of sign-in attempts queues there, and takes at most one
#: core from the viewers' updates, never the event loop.
_CHECKS = ThreadPoolExecutor(max_workers=1, thread_name_prefix="photon-signin")


def get_user(handler: RequestHandler) -> str | None:
    """Bokeh's hook: the signed-in user who may come in, else None (sent to /login)."""
    caller = resolve(handler, tokens_count=False)
    return caller.name if caller.allowed else None


def _prefix(handler: RequestHandler) -> str:
    return str(getattr(handler.application, "prefix", "") or "").rstrip("/")


def safe_next(raw: str | None, prefix: str = "") -> str:
    """Where to go after signing in: ``raw`` if it is a path on this server, else the
    root (an address elsewhere would make /login a door to any site)."""
    home = f"{prefix}/"
    if not raw or not raw.startswith("/") or raw.startswith(("//", "/\\")):
        return home
    if "\\" in raw or any(ord(c) < 32 or ord(c) == 127 for c in raw):
        return home
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc:
        return home
    return raw


def page(title: str, body: str) -> str:
    """A small page of ours (sign-in, signed out); ``body`` is HTML already escaped."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · Photon</title><style>"
        "body{font:16px system-ui,sans-serif;margin:0;display:grid;place-items:center;"
        "min-height:100vh;color-scheme:light dark}main{width:min(22rem,90vw)}"
        "label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.4rem;"
        "box-sizing:border-box;font:inherit}button{margin-top:1rem;padding:.4rem 1.2rem;"
        "font:inherit}[role=alert]{color:#b00020;margin:.6rem 0}"
        "@media (prefers-color-scheme:dark){[role=alert]{color:#ff8a80}}"
        ".brand{font-weight:700;font-size:1.6rem;margin:0}.brand span{font-weight:400;"
        "opacity:.7;font-size:1.1rem}h1{font-size:1.2rem;margin:1.2rem 0 .4rem}</style>"
        '</head><body><main><p class="brand">Photon <span>live market board</span></p>'
        f"<h1>{escape(title)}</h1>{body}</main></body></html>")


#: Failed sign-ins: per client (address) and per name tried, 10 at once, then one every
#: 6 s: a person who mistypes never meets it and a right password spends nothing;
#: guessing from one address, or one name's password from many, goes at 10 a minute.
FAILURES_BURST, FAILURES_RATE = 10, 1 / 6
_by_client = RateLimits(FAILURES_RATE, FAILURES_BURST)
_by_name = RateLimits(FAILURES_RATE, FAILURES_BURST)


def failures_wait(client: str, name: str) -> float:
    """Seconds before ``client`` may try ``name`` again (0: now) after earlier failures."""
    return max(_by_client.wait(client), _by_name.wait(name.lower()))


def count_failure(client: str, name: str) -> None:
    _by_client.take(client)
    _by_name.take(name.lower())


class LoginHandler(RequestHandler):
    """``/login`` with ``PHOTON_AUTH=basic``: the form, and its POST."""

    def get(self) -> None:
        caller = resolve(self, tokens_count=False)
        nxt = safe_next(self.get_query_argument("next", None), _prefix(self))
        if caller.name is not None and caller.allowed:
            self.redirect(nxt)
        elif caller.name is not None:
            self.form(403, f"You are signed in as {caller.name}, who may not use Photon. "
                      "Sign in as someone else.", nxt)
        else:
            self.form(200, "", nxt)

    async def post(self) -> None:
        nxt = safe_next(self.get_body_argument("next", None), _prefix(self))
        try:
            self.check_xsrf_cookie()
        except HTTPError:
            self.form(403, "This form had expired: please sign in again.", nxt)
            return
        name = self.get_body_argument("username", "").strip()[:100]
        password = self.get_body_argument("password", "")[:1024]
        client = await clients.client_of(self)
        wait = failures_wait(client, name)
        if wait > 0:
            log.info("sign-in attempts refused user=%r from=%s", name, self.request.remote_ip)
            self.set_header("Retry-After", str(retry_after(wait)))
            self.form(429, f"Too many sign-in attempts: try again in {retry_after(wait)} s.",
                      nxt, name)
            return
        users = policy().users
        try:
            ok = users is not None and await IOLoop.current().run_in_executor(
                _CHECKS, users.verify, name, password)
        except HashFileError as exc:
            log.error("sign-in refused: %s", exc)
            self.form(503, "Sign-in is out of order (the users file): tell the operator.",
                      nxt)
            return
        if not ok:
            count_failure(client, name)
            log.info("sign-in failed user=%r from=%s", name, self.request.remote_ip)
            self.form(401, "Wrong name or password.", nxt, name)
        elif not policy().allows(name):
            self.form(403, f"{name} may not use Photon.", nxt)
        else:
            self.set_secure_cookie("user", name, expires_days=COOKIE_DAYS, httponly=True,
                                   samesite="Lax", secure=self.request.protocol == "https")
            log.info("signed in user=%r from=%s", name, self.request.remote_ip)
            self.redirect(nxt)

    def form(self, status: int, message: str, nxt: str, name: str = "") -> None:
        self.set_status(status)
        self.set_header("Cache-Control", "no-store")
        alert = f'<p role="alert">{escape(message)}</p>' if message else ""
        self.finish(page("Sign in", (
            f'{alert}<form method="post" action="{escape(_prefix(self) + LOGIN_PATH)}">'
            f"{self.xsrf_form_html()}"
            f'<input type="hidden" name="next" value="{escape(nxt)}">'
            '<label for="username">Name</label>'
            f'<input id="username" name="username" autocomplete="username" required '
            f'autofocus value="{escape(name)}">'
            '<label for="password">Password</label>'
            '<input id="password" name="password" type="password" required '
            'autocomplete="current-password">'
            '<button type="submit">Sign in</button></form>')))


class LogoutHandler(RequestHandler):
    """``/logout``: forget every sign-in cookie; say so, with a way back in."""

    def get(self) -> None:
        for name in SIGN_IN_COOKIES:
            self.clear_cookie(name)
        self.set_header("Cache-Control", "no-store")
        self.finish(page("Signed out", (
            "<p>You are signed out of Photon.</p>"
            f'<p><a href="{escape(_prefix(self) + LOGIN_PATH)}">Sign in again</a></p>')))


def oauth_login_handler(provider: str) -> type[RequestHandler]:
    """Panel's login handler of ``provider``, which lets in only the allowed users."""
    from panel.auth import AUTH_PROVIDERS

    base = AUTH_PROVIDERS[provider]

    class AllowedOnlyLogin(base):  # type: ignore[valid-type, misc]
        async def get_authenticated_user(self, *args, **kwargs):
            user = await super().get_authenticated_user(*args, **kwargs)
            if user is not None and not policy().allows(str(user)):
                shown = str(user).replace("%", "")
                log.info("sign-in refused: %r is not in PHOTON_ALLOWED_USERS", shown)
                for name in SIGN_IN_COOKIES:  # set a moment ago from the provider's answer
                    self.clear_cookie(name)
                raise HTTPError(403, f"{shown} may not use Photon.", reason="Not allowed")
            return user

    AllowedOnlyLogin.__name__ = f"Photon{base.__name__}"
    return AllowedOnlyLogin


def login_handler() -> type[RequestHandler]:
    """The ``/login`` handler for this process's PHOTON_AUTH."""
    from app.config import get_settings

    settings = get_settings()
    if settings.auth == "oauth" and settings.oauth_provider:
        return oauth_login_handler(settings.oauth_provider)
    return LoginHandler


__all__ = ["LOGIN_PATH", "LOGOUT_PATH", "LoginHandler", "LogoutHandler", "get_user",
           "login_handler", "safe_next"]

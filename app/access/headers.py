"""Security headers on every response, and safe flags on every cookie.

Put on at the Tornado level, so Panel's, Bokeh's and Photon's handlers (and a sign-in
page added later) all get them without each handler remembering:

- a script ``Content-Security-Policy``: scripts from the server itself, and inline
  ``<script>`` blocks only with the nonce this response gave them (a fresh one per
  response; Bokeh's pages differ per session anyway, by their token);
  ``frame-ancestors`` as the handler set it (the embed policy of ``/app`` and
  ``/sparkline``, :mod:`app.embed.policy`), ``'none'`` for ``/login`` and for anything
  that did not say;
- ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: strict-origin-when-cross-origin``,
  and no ``Server`` header (Tornado's names its version);
- cookies ``HttpOnly``, ``SameSite=Lax``, and ``Secure`` when the request came over TLS
  (``request.protocol``: with ``--use-xheaders``, the proxy's ``X-Forwarded-Proto``) or
  ``PHOTON_COOKIE_SECURE=1`` (behind a TLS proxy that Tornado is not told about).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
import secrets
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from tornado.httputil import HTTPHeaders, HTTPServerRequest
from tornado.web import OutputTransform, RequestHandler

#: Where scripts may come from, besides a page's inline blocks (by nonce). ``blob:``:
#: Panel's JS components (the board, its status) are ES modules that Panel compiles in
#: the browser and imports from blob URLs.
SCRIPT_SOURCES = ("'self'", "blob:")

#: Directives every response carries unless its handler set them.
BASE_POLICY = {"object-src": "'none'", "base-uri": "'self'", "frame-ancestors": "'none'"}

#: Pages nobody may frame, whatever their handler said (clickjacking of a password form).
UNFRAMEABLE = ("/login",)

#: ``<script type=…>`` values a browser runs (no type: JavaScript). JSON data blocks and
#: es-module-shims' options are not run, so they need no nonce or hash.
RUN_TYPES = frozenset({"", "text/javascript", "application/javascript", "module",
                       "application/ecmascript", "text/ecmascript"})

HEADERS = {"X-Content-Type-Options": "nosniff",
           "Referrer-Policy": "strict-origin-when-cross-origin"}

_OPEN = re.compile(rb"<script(?=[\s/>])([^>]*)>")
_CLOSE = re.compile(rb"</script[\s/>]")
_SRC = re.compile(rb"\ssrc\s*=")
_TYPE = re.compile(rb"""\stype\s*=\s*["']?([^"'\s>]*)""")


class ScriptElement(NamedTuple):
    """Where a ``<script>`` element is in a page: its opening tag's ``<``, its text."""

    start: int
    body: slice
    runs: bool
    """Whether it is inline code a browser runs (not ``src=``, not a data block)."""


def script_elements(html: bytes) -> Iterator[ScriptElement]:
    """The ``<script>`` elements of ``html`` in order, as a browser reads them: a
    script's text ends at the first ``</script``, so ``<script`` inside it is text.
    (``str.find`` on a lower-cased copy: a lazy ``.*?`` regex took 40 µs per kB.)"""
    lower = html.lower()
    pos = 0
    while (start := lower.find(b"<script", pos)) != -1:
        tag = _OPEN.match(lower, start)
        if tag is None:  # <scripts>, <script-x>: another element
            pos = start + 7
            continue
        close = _CLOSE.search(lower, tag.end())
        end = close.start() if close else len(html)
        attrs = tag.group(1)
        kind = _TYPE.search(attrs)
        runs = not _SRC.search(attrs) and (not kind or kind.group(1).decode() in RUN_TYPES)
        yield ScriptElement(start, slice(tag.end(), end), runs)
        pos = close.end() if close else len(html)


def inline_script_hashes(html: bytes) -> list[str]:
    """CSP sources (``'sha256-…'``) of the inline scripts a browser runs in ``html``,
    each once, in order. Hashed as the browser does: the text between the tags, its
    line breaks normalised (``\\r\\n`` and ``\\r`` read as ``\\n``), in UTF-8."""
    found: dict[str, None] = {}
    for script in script_elements(html):
        if script.runs:
            body = html[script.body].replace(b"\r\n", b"\n").replace(b"\r", b"\n")
            digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
            found[f"'sha256-{digest}'"] = None
    return list(found)


def with_nonce(html: bytes, nonce: str) -> tuple[bytes, bool]:
    """``html`` with ``nonce`` on every ``<script>`` element (not on ``<script`` text
    inside a script), and whether one of them runs inline. On every script, not only
    the inline ones: es-module-shims (Panel's JS components) takes the nonce of the
    page's first ``script[nonce]`` for the scripts it adds (its feature checks). Put
    first, it is the one a browser reads if the tag had a ``nonce`` already."""
    attr = f' nonce="{nonce}"'.encode()
    parts: list[bytes] = []
    last = 0
    inline = False
    for script in script_elements(html):
        cut = script.start + len(b"<script")
        parts += (html[last:cut], attr)
        last = cut
        inline = inline or script.runs
    parts.append(html[last:])
    return b"".join(parts), inline


def parse_policy(header: str) -> dict[str, str]:
    """A CSP header's directives, name -> sources (the first of a name wins, as in CSP)."""
    policy: dict[str, str] = {}
    for part in header.split(";"):
        name, _, sources = part.strip().partition(" ")
        if name:
            policy.setdefault(name.lower(), sources.strip())
    return policy


def unframeable(path: str) -> bool:
    """Whether ``path`` is a page no site, not even this one, may frame."""
    path = path.rstrip("/")
    return any(path == p or path.endswith(p) for p in UNFRAMEABLE)


def content_security_policy(existing: str | None, path: str,
                            inline_scripts: Iterable[str] = ()) -> str:
    """The CSP to send: the handler's own directives (``existing``, e.g. the embed
    policy's ``frame-ancestors``), then a script policy allowing this server's files
    and the page's inline scripts (``inline_scripts``: the response's nonce, or their
    hashes), then :data:`BASE_POLICY` for what is not said."""
    policy = parse_policy(existing or "")
    policy.setdefault("script-src", " ".join((*SCRIPT_SOURCES, *inline_scripts)))
    for name, sources in BASE_POLICY.items():
        policy.setdefault(name, sources)
    if unframeable(path):
        policy["frame-ancestors"] = "'none'"
    return "; ".join(f"{name} {sources}" for name, sources in policy.items())


class SecurityHeaders(OutputTransform):
    """Tornado output transform: the headers above on every response of the application.

    It must run before compression (first in the application's ``transforms``): it
    reads, and gives a nonce to, the scripts of an HTML response. A page written in one
    piece (Bokeh's and Photon's are) gets a fresh nonce on its scripts; the first chunk
    of one streamed with a ``Content-Length`` cannot change size, so its inline scripts
    are allowed by hash instead (later chunks' by neither)."""

    def __init__(self, request: HTTPServerRequest) -> None:
        self._path = request.path

    def transform_first_chunk(self, status_code: int, headers: HTTPHeaders, chunk: bytes,
                              finishing: bool) -> tuple[int, HTTPHeaders, bytes]:
        headers.pop("Server", None)
        for name, value in HEADERS.items():
            headers[name] = value
        if status_code == 304:  # its headers would replace those of the page kept
            return status_code, headers, chunk
        scripts: tuple[str, ...] | list[str] = ()
        if (headers.get("Content-Type", "").startswith("text/html")
                and "Content-Encoding" not in headers and b"<script" in chunk):
            if finishing or "Content-Length" not in headers:
                nonce = secrets.token_urlsafe(18)
                chunk, inline = with_nonce(chunk, nonce)
                scripts = (f"'nonce-{nonce}'",) if inline else ()
                if "Content-Length" in headers:
                    headers["Content-Length"] = str(len(chunk))
            else:
                scripts = inline_script_hashes(chunk)
        headers["Content-Security-Policy"] = content_security_policy(
            headers.get("Content-Security-Policy"), self._path, scripts)
        return status_code, headers, chunk


# -- cookies ---------------------------------------------------------------------------

class CookiePolicy:
    """Whether cookies are marked ``Secure`` on plain HTTP too (``PHOTON_COOKIE_SECURE``:
    the server sits behind a TLS proxy that does not say so in ``X-Forwarded-Proto``)."""

    always_secure: bool = False


def cookie_flags(given: dict, over_tls: bool, always_secure: bool) -> dict:
    """``set_cookie``'s keyword arguments with the flags every cookie gets: ``HttpOnly``,
    ``SameSite=Lax`` (``Strict`` is kept: it is stricter), ``Secure`` over TLS or when
    asked. Case-insensitive, as Tornado still accepts ``HttpOnly=`` and the like."""
    kwargs = {k: v for k, v in given.items()
              if k.lower() not in ("httponly", "samesite", "secure")}
    samesite = next((v for k, v in given.items() if k.lower() == "samesite"), None)
    secure = any(v for k, v in given.items() if k.lower() == "secure")
    kwargs["httponly"] = True
    kwargs["samesite"] = "Strict" if str(samesite).lower() == "strict" else "Lax"
    kwargs["secure"] = secure or over_tls or always_secure
    return kwargs


def install_cookie_flags() -> None:
    """Every ``RequestHandler.set_cookie`` (so ``set_signed_cookie`` and ``clear_cookie``
    too) gets :func:`cookie_flags`. Idempotent."""
    if getattr(RequestHandler.set_cookie, "_photon_flags", False):
        return
    original = RequestHandler.set_cookie

    def set_cookie(self: RequestHandler, name, value, domain=None, expires=None, path="/",
                   expires_days=None, **kwargs) -> None:
        kwargs = cookie_flags(kwargs, self.request.protocol == "https",
                              CookiePolicy.always_secure)
        original(self, name, value, domain, expires, path, expires_days, **kwargs)

    set_cookie._photon_flags = True  # type: ignore[attr-defined]
    RequestHandler.set_cookie = set_cookie  # type: ignore[method-assign]


def install() -> None:
    """Headers on every response of the Bokeh server built after this call, and the
    cookie flags on every handler of the process. Idempotent.

    Call it where ``server_fixes.install_compression`` is called (``app_hooks.py``'s
    body, which runs before ``panel serve`` builds the server): the transform goes in
    front of the compression, which must see what it checked."""
    from bokeh.server.tornado import BokehTornado

    install_cookie_flags()
    if getattr(BokehTornado.__init__, "_photon_headers", False):
        return
    original = BokehTornado.__init__

    @functools.wraps(original)  # keeps the marks of other patches (install_compression)
    def __init__(self, *args, **kwargs) -> None:
        original(self, *args, **kwargs)
        if SecurityHeaders not in self.transforms:
            self.transforms.insert(0, SecurityHeaders)

    __init__._photon_headers = True  # type: ignore[attr-defined]
    BokehTornado.__init__ = __init__  # type: ignore[method-assign]


def configure(cookie_secure: bool) -> None:
    """The process's settings: ``PHOTON_COOKIE_SECURE``."""
    CookiePolicy.always_secure = cookie_secure

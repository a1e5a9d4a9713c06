"""Who may embed Photon: the server's own pages and the ``PHOTON_EMBED_ORIGINS``.

Three doors, one list. Bokeh's WebSocket origin check (``--allow-websocket-origin``,
set by ``photon``) and the fast lane's (:mod:`app.lanes.fastlane`) guard the live data.
Here: pages (``/app``, ``/sparkline``) tell browsers, with CSP ``frame-ancestors``,
which sites may frame them; and the ``server_document`` script (``autoload.js``),
asked for by a page of another site, answers with a line of JavaScript that puts a
clear refusal where the sparkline would be, instead of an empty box.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from urllib.parse import urlsplit

_installed: dict[str, frozenset[str]] = {}


def frame_ancestors(origins: Iterable[str]) -> str:
    """The CSP header value that lets the server's own pages and ``origins`` frame it."""
    sources = " ".join(f"http://{o} https://{o}" for o in sorted(origins))
    return f"frame-ancestors 'self' {sources}".strip()


def refusal_text(origin: str) -> str:
    """Why a page of ``origin`` gets no live prices, and who can change that."""
    return (f"Photon: this page ({origin}) may not embed live prices. The Photon "
            "server's operator can allow it in PHOTON_EMBED_ORIGINS.")


def notice_js(text: str, element_id: str = "") -> str:
    """JavaScript that shows ``text`` right after the element ``element_id`` (Bokeh's
    ``server_document`` snippet names its own ``<script>``), or with no id after the
    ``<script>`` running it: where the embed would have been."""
    anchor = (f"document.getElementById({json.dumps(element_id)})" if element_id
              else "document.currentScript")
    return (f"(function(){{var el={anchor};"
            "if(!el||!el.parentNode)return;var m=document.createElement('span');"
            f"m.textContent={json.dumps(text)};"
            "m.setAttribute('role','alert');m.className='photon-embed-refused';"
            "m.style.cssText='font:12px sans-serif;color:#92400e;background:#fef3c7;"
            "padding:2px 6px;border-radius:4px;display:inline-block';"
            "el.parentNode.insertBefore(m,el.nextSibling);})();")


def refusal_js(element_id: str, origin: str) -> str:
    """JavaScript that shows why an embed from ``origin`` is refused, in its element."""
    return notice_js(refusal_text(origin), element_id)


def allowed(referer: str | None, host: str, origins: frozenset[str]) -> bool:
    """Whether a request coming from page ``referer`` may embed (no referer: allowed,
    the WebSocket origin checks still apply)."""
    if not referer:
        return True
    netloc = urlsplit(referer).netloc.lower()
    return netloc == host.lower() or netloc in origins


def cors_allowed(origin: str | None, origins: frozenset[str]) -> bool:
    """Whether a script of the page at ``origin`` (the ``Origin`` header: scheme, host,
    port) may read an embed's answer: only listed sites, never any site."""
    if not origin:
        return False
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc.lower() in origins


def install(origins: Iterable[str]) -> None:
    """Patch Panel's page and autoload handlers once per process."""
    from panel.io.server import AutoloadJsHandler, DocHandler

    _installed["origins"] = frozenset(o.lower() for o in origins)
    if getattr(AutoloadJsHandler.get, "_photon", False):
        return
    original_get = AutoloadJsHandler.get
    original_headers = DocHandler.set_default_headers

    async def get(self, *args, **kwargs):
        referer = self.request.headers.get("Referer")
        if not allowed(referer, self.request.host, _installed["origins"]):
            element = self.get_argument("bokeh-autoload-element", default="")
            self.set_header("Content-Type", "application/javascript")
            self.write(refusal_js(element, urlsplit(referer).netloc))
            return None
        return await original_get(self, *args, **kwargs)

    def set_default_headers(self) -> None:
        original_headers(self)
        self.set_header("Content-Security-Policy", frame_ancestors(_installed["origins"]))

    get._photon = True  # type: ignore[attr-defined]
    AutoloadJsHandler.get = get  # type: ignore[method-assign]
    DocHandler.set_default_headers = set_default_headers  # type: ignore[method-assign]

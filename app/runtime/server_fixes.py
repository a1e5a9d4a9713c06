"""Fixes to the Bokeh/Panel server: a session leak, and pages lighter on the wire.

The leak: a Bokeh server race that leaks sessions of tabs closed while connecting.

Bokeh's ``WSHandler.open`` schedules ``_async_open``, which creates the session
connection after an ``await``. If the browser closes the socket in between,
``on_close`` runs first, finds no connection to release, and the connection
created afterwards is never released: the session never becomes "unused", is
never reaped, and keeps its hub subscriptions forever. (Seen with Bokeh 3.9.2:
a tab opened and closed at once.) The fix: after opening, if the socket is
already gone, run the close path again now that there is a connection.
"""

from __future__ import annotations

import gzip
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from bokeh.server.views.ws import WSHandler
from tornado.web import GZipContentEncoding

from app.runtime import page_bundle

log = logging.getLogger(__name__)


def install() -> None:
    """Patch ``WSHandler._async_open`` once per process (idempotent)."""
    if getattr(WSHandler._async_open, "_photon_fixed", False):
        return
    original = WSHandler._async_open

    async def _async_open(self: WSHandler, token: str) -> None:
        await original(self, token)
        leaked = (self.connection is not None and self.ws_connection is None
                  and self.connection._session is not None)  # on_close has not released it
        if leaked:
            log.info("WebSocket closed while opening; releasing its session connection")
            self.on_close()

    _async_open._photon_fixed = True  # type: ignore[attr-defined]
    WSHandler._async_open = _async_open  # type: ignore[method-assign]


# -- light pages ---------------------------------------------------------------------
# A first visit costs a viewer's link the page's scripts: compress every text response,
# let the browser keep every static file (versioned URLs), and send only the bundles
# the page's models use. See README "Performance" and bench/probes/pageload.py.

#: Pages' resource bundles, one per kind of page (app/runtime/page_bundle.py).
_BUNDLES = page_bundle.BundleCache()

#: Bokeh bundles a page needs only when one of its models does (Panel sends them all).
OPTIONAL_BUNDLES = {"bokeh-gl": "_use_gl"}


class PageCompression(GZipContentEncoding):
    """Tornado's gzip of text, JS and JSON responses, and of the favicon (Panel's .ico
    is 15 kB, 1 kB gzipped)."""

    CONTENT_TYPES = GZipContentEncoding.CONTENT_TYPES | {"image/x-icon",
                                                         "image/vnd.microsoft.icon"}


#: How long browsers may keep the (unversioned) /favicon.ico.
FAVICON_MAX_AGE_S = 86400


def install_compression() -> None:
    """gzip every compressible response (HTML, JS, CSS, JSON) of the Tornado server
    built after this call, like Tornado's ``compress_response`` setting, which neither
    ``panel serve`` nor ``bokeh serve`` offers as an option; and let browsers keep the
    favicon a day. Idempotent.

    ``app_hooks.py``'s body runs when ``panel serve`` builds the application, before
    it builds the server, so calling this there covers ``photon`` and ``panel serve app``.
    """
    from bokeh.server.tornado import BokehTornado
    from bokeh.server.views.ico_handler import IcoHandler

    if getattr(BokehTornado.__init__, "_photon_compress", False):
        return
    original = BokehTornado.__init__

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("transforms", [PageCompression])
        original(self, *args, **kwargs)

    def set_default_headers(self) -> None:
        self.set_header("Cache-Control", f"max-age={FAVICON_MAX_AGE_S}")

    __init__._photon_compress = True  # type: ignore[attr-defined]
    BokehTornado.__init__ = __init__  # type: ignore[method-assign]
    IcoHandler.set_default_headers = set_default_headers  # type: ignore[method-assign]


def used_extensions(models) -> list[str]:
    """Panel extensions (``tabulator``, ``plotly``, ...) whose models are among ``models``."""
    from panel.config import panel_extension

    modules = {type(m).__module__ for m in models}
    return [name for name, module in panel_extension._imports.items() if module in modules]


def versioned(url):
    """A Panel static URL (text, or Bokeh's ``URL``) with Panel's version as ``?v=``, so
    Tornado's static handler lets browsers keep it (it sends a ten-year ``max-age`` for
    ``v``-versioned URLs and none otherwise). Other URLs, and versioned ones, stay."""
    from panel.io.resources import JS_VERSION

    text = str(url)
    if "static/extensions/panel/" not in text or "?v=" in text or "&v=" in text:
        return url
    text = f"{text}{'&' if '?' in text else '?'}v={JS_VERSION}"
    return text if isinstance(url, str) else type(url)(text)


def install_light_pages() -> None:
    """Served pages load only the bundles their models use, at versioned URLs.

    Panel's page template sends every bundle: each Bokeh bundle (``bokeh-gl`` too), and
    the scripts of every Panel extension whose models are imported in the process, unless
    the session called ``pn.extension(...)`` itself. ``panel serve`` imports Tabulator's
    models at start-up, so a board page loaded Tabulator and luxon (half a megabyte) it
    does not use. Here a page whose session did not name its extensions gets those its
    models use, and ``bokeh-gl`` only if a plot renders with WebGL. Idempotent.
    (``bokeh-tables`` stays: Panel's own bundle imports it.)
    """
    from panel.io import server as pn_server

    if getattr(pn_server.bundle_resources, "_photon_light", False):
        return
    original = pn_server.bundle_resources

    def bundle_resources(roots, resources, *args, **kwargs):
        from bokeh.embed import bundle as bk_bundle
        from panel.io.resources import Resources
        from panel.io.state import state

        models: set = set()
        for root in roots or ():
            models |= root.references()
        doc = state.curdoc
        if doc is not None and doc not in state._extensions_:
            state._extensions_[doc] = used_extensions(models)
        if resources is not None and roots:
            if not isinstance(resources, Resources):
                resources = Resources.from_bokeh(resources)
            resources = resources.clone()
            for name, used in OPTIONAL_BUNDLES.items():
                if name in resources.components and not getattr(bk_bundle, used)(models):
                    resources.components.remove(name)

        def make():
            bundle = original(roots, resources, *args, **kwargs)
            bundle.js_files = [versioned(u) for u in bundle.js_files]
            bundle.css_files = [versioned(u) for u in bundle.css_files]
            bundle.hashes = {versioned(u): h for u, h in bundle.hashes.items()}
            return bundle

        if resources is None or not roots or args or kwargs:
            return make()
        # the same for every page of a kind: made once (app/runtime/page_bundle.py)
        key = page_bundle.page_key(map(type, models),
                                   page_bundle.bundle_settings(resources, doc))
        return _BUNDLES.get(key, make)

    bundle_resources._photon_light = True  # type: ignore[attr-defined]
    pn_server.bundle_resources = bundle_resources


#: Content types worth compressing (Tornado's list for ``compress_response``, + icons).
COMPRESSIBLE = frozenset({"application/javascript", "application/x-javascript",
                          "application/json", "application/xml", "image/svg+xml",
                          "image/x-icon", "image/vnd.microsoft.icon"})
#: Below this a file is sent as it is (headers would eat the gain).
MIN_PACK_BYTES = 1024


def accepted(header: str, brotli_ok: bool) -> list[str]:
    """The encodings we can send for this ``Accept-Encoding``, best first."""
    offered = {}
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        offered[name.strip().lower()] = q
    return [e for e in ("br", "gzip") if offered.get(e, 0.0) > 0 and (e != "br" or brotli_ok)]


class PackedFiles:
    """Static files compressed once per process, kept in memory by (path, mtime).

    gzip is made on the first request, off the server's loop (tens of ms for BokehJS);
    brotli at its best level takes seconds for BokehJS, so it is made in the background
    and served once ready. Browsers advertise ``br`` (Chromium on plain HTTP too): 20 %
    fewer bytes. At most ``limit`` bytes are kept; past it, Tornado's gzip serves."""

    def __init__(self, limit: int = 64 * 2**20) -> None:
        try:
            import brotli
        except ImportError:
            brotli = None
        self.brotli = brotli
        self.limit = limit
        self.size = 0
        self._packed: dict[tuple[str, float, str], bytes] = {}
        self._pending: set[tuple[str, float]] = set()
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    def ready(self, path: str, mtime: float, encodings: list[str]) -> tuple[bytes, str] | None:
        """The file compressed in the first of ``encodings`` made already (None: none);
        asks for brotli in the background if the browser takes it."""
        if "br" in encodings and (path, mtime, "br") not in self._packed:
            self._brotli_later(path, mtime)
        for enc in encodings:
            body = self._packed.get((path, mtime, enc))
            if body is not None:
                return body, enc
        return None

    def gzip(self, path: str, mtime: float) -> bytes | None:
        """Compress with gzip now (run it off the loop) and keep it, if there is room."""
        with open(path, "rb") as f:
            return self._keep((path, mtime, "gzip"),
                              gzip.compress(f.read(), compresslevel=9, mtime=0))

    def _keep(self, key: tuple[str, float, str], body: bytes) -> bytes | None:
        with self._lock:
            if key not in self._packed:
                if self.size + len(body) > self.limit:
                    return None
                self._packed[key] = body
                self.size += len(body)
        return body

    def _brotli_later(self, path: str, mtime: float) -> None:
        with self._lock:
            if (path, mtime) in self._pending or self.brotli is None:
                return
            self._pending.add((path, mtime))
            if self._pool is None:
                self._pool = ThreadPoolExecutor(1, thread_name_prefix="photon-brotli")
        self._pool.submit(self._make_brotli, path, mtime)

    def _make_brotli(self, path: str, mtime: float) -> None:
        try:
            with open(path, "rb") as f:
                self._keep((path, mtime, "br"), self.brotli.compress(f.read(), quality=11))
        except Exception:  # noqa: BLE001 - gzip keeps being served
            log.exception("brotli compression of %s failed", path)


def install_static_packing(files: PackedFiles | None = None) -> None:
    """Serve static files (BokehJS, Panel's bundles, CSS) compressed once per process
    instead of per request: brotli when the browser takes it, else gzip. Range
    requests and other types go through Tornado's handler. Idempotent."""
    from tornado.ioloop import IOLoop
    from tornado.web import StaticFileHandler

    if getattr(StaticFileHandler.get, "_photon_packed", False):
        return
    original = StaticFileHandler.get
    packed = files or PackedFiles()

    async def get(self: StaticFileHandler, path: str, include_body: bool = True) -> None:
        encodings = accepted(self.request.headers.get("Accept-Encoding", ""),
                             packed.brotli is not None)
        if not encodings or "Range" in self.request.headers:
            return await original(self, path, include_body)
        self.path = self.parse_url_path(path)
        absolute = self.validate_absolute_path(self.root,
                                               self.get_absolute_path(self.root, self.path))
        if absolute is None:
            return None
        self.absolute_path = absolute
        ctype = self.get_content_type().split(";")[0]
        stat = os.stat(absolute)
        if not (ctype.startswith("text/") or ctype in COMPRESSIBLE) or (
                stat.st_size < MIN_PACK_BYTES):
            return await original(self, path, include_body)
        got = packed.ready(absolute, stat.st_mtime, encodings)
        if got is None and "gzip" in encodings:
            body = await IOLoop.current().run_in_executor(None, packed.gzip, absolute,
                                                          stat.st_mtime)
            got = (body, "gzip") if body is not None else None
        if got is None:
            return await original(self, path, include_body)
        body, encoding = got
        self.modified = self.get_modified_time()
        self.set_headers()
        self.clear_header("Accept-Ranges")
        etag = self._headers.get("Etag")
        if etag:  # one representation per encoding
            self.set_header("Etag", f'{etag[:-1]}-{encoding}"')
        self.set_header("Content-Encoding", encoding)
        if not any(issubclass(t, GZipContentEncoding) for t in self.application.transforms):
            self.add_header("Vary", "Accept-Encoding")  # else Tornado's gzip adds it
        if self.should_return_304():
            self.set_status(304)
            return None
        self.set_header("Content-Length", len(body))
        if include_body:
            self.write(body)
        return None

    get._photon_packed = True  # type: ignore[attr-defined]
    StaticFileHandler.get = get  # type: ignore[method-assign]

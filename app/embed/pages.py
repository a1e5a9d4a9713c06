"""``/sparkline`` (a page, for an iframe) and ``/sparkline.js`` (a script, for a page
of another site): one symbol's live sparkline, price and change, without BokehJS.

Both carry the row as the hub has it at the request, drawn by the server, so the
price is on screen as soon as the HTML (or the script) arrives; a few kilobytes of
script (``client.js``, with the board's sparkline code ``spark.js``) then keep it live
over ``/photon/spark`` (:mod:`app.embed.spark_socket`). Which sites may embed it is
``PHOTON_EMBED_ORIGINS`` (:mod:`app.embed.policy`): the page tells browsers with CSP
``frame-ancestors``; the script, asked for by a page not allowed, answers with a line
saying so where the sparkline would be; the socket checks the page's origin.

Everything written into the HTML or script is escaped; from the request only the
options survive, parsed and clamped (:func:`app.embed.args.embed_args`), and a
symbol the feed knows.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from functools import cache
from html import escape
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from tornado.ioloop import IOLoop
from tornado.web import RequestHandler

from app.access.identity import Door, Guarded
from app.embed.args import EmbedArgs, embed_args
from app.embed.policy import allowed, cors_allowed, frame_ancestors, notice_js, refusal_text
from app.embed.spark_socket import PATH as SOCKET_PATH
from app.embed.spark_socket import SparkSocket, embed_symbol, snapshot_row, state_message
from app.hub.hub import Hub, get_hub
from app.hub.sparkline import compact_points
from app.views.esm import classic_script
from app.views.first_paint import SPARK_H, SPARK_W, spark_coords
from app.views.theme import page_css

_HERE = Path(__file__).parent
_SPARK_JS = _HERE.parent / "views" / "spark.js"
_PRICE_CSS = _HERE.parent / "views" / "price.css"

#: Seconds a page request keeps its symbol watched for the socket that follows.
WARM_S = 5.0
#: Longest a request waits for the reference price of a symbol nobody watched, s.
REFERENCE_WAIT_S = 0.25

#: The CSS ``color-scheme`` of each theme ("auto": the viewer's system setting).
SCHEME = {"auto": "light dark", "light": "light", "dark": "dark"}


@cache
def client_js() -> str:
    """The browser code: the board's sparkline functions and the embed's own, as one
    classic script (an embed may not load modules from another site)."""
    source = classic_script(_SPARK_JS, _HERE / "client.js")
    return re.sub(r"^\s*//.*\n", "", source, flags=re.M)  # comments: for readers of the files


@cache
def client_css() -> str:
    """The board's price styles (colours, flashes, the line), then the embed's own."""
    return (_PRICE_CSS.read_text() + (_HERE / "sparkline.css").read_text())


def _json(value: object) -> str:
    """JSON safe inside an HTML ``<script>`` (no ``</script>``, no ``<!--``)."""
    return json.dumps(value, separators=(",", ":")).replace("<", "\\u003c")


def row_html(row: dict, args: EmbedArgs, max_points: int, state: dict[str, str]) -> str:
    """The row as the browser code keeps it: symbol, price, change, sparkline, and the
    feed's ``state`` with its note over prices that are not live (empty while live)."""
    points = compact_points(row.get("points") or [], min(args.points, max_points),
                            time_of=lambda p: p[0])
    trend = row.get("trend") or 0
    word = "up" if trend > 0 else "down" if trend < 0 else "flat"
    arrow = {"up": "▲", "down": "▼"}.get(word, "•")
    has_change = any(c.isdigit() for c in str(row.get("change") or ""))  # "—": none yet
    up = trend >= 0 if has_change else (len(points) < 2 or points[-1][1] >= points[0][1])
    price = str(row.get("price") or "—")
    note = state["note"] or str(row.get("note") or "")  # as client.js's showNote
    timing = ' elementtiming="photon-price"' if any(c.isdigit() for c in price) else ""
    return (
        f'<span class="photon-spark{" photon-stale" if note else ""}" '
        f'data-symbol="{escape(row["symbol"])}" data-trend="{word}" '
        f'data-state="{escape(state["state"])}">'
        f'<span class="sym">{escape(row["symbol"])}</span> '
        f'<span class="px photon-price"{timing}>{escape(price)}</span> '
        f'<span class="chg"><span class="arrow" aria-hidden="true">{arrow}</span>'
        f'<span class="chg-text">{escape(str(row.get("change") or ""))}</span></span> '
        f'<svg class="spark photon-sparkline photon-spark-{"up" if up else "down"}" '
        f'viewBox="0 0 {SPARK_W} {SPARK_H}" preserveAspectRatio="none" aria-hidden="true" '
        f'style="width:{args.width}px;height:{args.height}px">'
        f'<polyline points="{spark_coords(points)}"/></svg>'
        f'<span class="photon-stale-note" role="status">{escape(note)}</span></span>')


def client_config(args: EmbedArgs, row: dict) -> dict:
    """What the browser code needs: where its socket is and what it keeps."""
    return {"symbol": args.symbol, "points": args.points, "last": row.get("last"),
            "socket": f"{SOCKET_PATH.lstrip('/')}?"
                                      f"{urlencode({'symbol': args.symbol})}"}


def page_html(args: EmbedArgs, row: dict, state: dict[str, str], max_points: int) -> str:
    """``/sparkline``: a page of its own (in an iframe), with a main landmark and an h1
    naming the symbol for screen readers (a sighted viewer sees the symbol already)."""
    script = f"photonSparkline(document, {_json(client_config(args, row))})"
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<title>{escape(args.symbol)} · Photon</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<style>{page_css(args.theme)}body{{margin:0;background:transparent}}'
        'main{display:flex;align-items:center;min-height:100vh}'
        f'{client_css()}</style></head><body><main>'
        f'<h1 class="photon-sr">{escape(args.symbol)} live price</h1>'
        f'{row_html(row, args, max_points, state)}</main>'
        f'<script>{client_js()}\n{script}</script></body></html>')


def notice_page(text: str) -> str:
    """``/sparkline`` with no sparkline (an unknown symbol, a site not allowed): a line
    saying why."""
    return ('<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<title>Photon</title><style>{client_css()}</style></head><body><main>'
            '<h1 class="photon-sr">Photon sparkline</h1>'
            f'<span role="alert">{escape(text)}</span></main></body></html>')


def unknown_text(symbol: str) -> str:
    return f"Photon: unknown symbol ({symbol or 'none given'}); use /sparkline?symbol=AAPL"


def script_js(args: EmbedArgs, row: dict, state: dict[str, str], max_points: int,
              element_id: str = "", base: str = "") -> str:
    """``/sparkline.js``: draws the sparkline right after the ``<script>`` that loaded it
    (or after the element ``element_id``), in a shadow root: the page's styles and ours
    stay apart, and the page gets no landmark or heading of ours (it has its own).
    Its socket is on the script's own server (``base``: that server's URL, when the
    script cannot know it, as under Bokeh's snippet)."""
    host_css = f":host{{color-scheme:{SCHEME[args.theme]};display:inline-block}}"
    cfg = {**client_config(args, row), "element": element_id, "base": base,
           "html": (f"<style>{host_css}{client_css()}</style>"
                    f"{row_html(row, args, max_points, state)}")}
    return f"(function(){{{client_js()}\nphotonSparkline(null, {_json(cfg)})}})();"


class _EmbedHandler(Guarded, RequestHandler):
    """What the page and the script share: options, the symbol, the row as of now."""

    photon_embed = True  # PHOTON_EMBED_PUBLIC=1 opens it to anyone

    hub: Hub | None = None
    """The hub to read (tests set one); the process's own otherwise."""
    embed_origins: frozenset[str] = frozenset()
    """Other sites (``host:port``) that may embed, from PHOTON_EMBED_ORIGINS."""

    def set_default_headers(self) -> None:
        self.set_header("Cache-Control", "no-store")  # prices as of the request

    def _args(self, hub: Hub) -> tuple[EmbedArgs, str | None]:
        args = embed_args({k: self.get_query_argument(k, "")
                           for k in ("symbol", "width", "height", "points", "theme")},
                          hub.history_len)
        return args, embed_symbol(hub, args.symbol)

    def _allowed(self) -> bool:
        return allowed(self.request.headers.get("Referer"), self.request.host,
                       type(self).embed_origins)

    async def _row(self, hub: Hub, symbol: str) -> tuple[dict, dict[str, str]]:
        """``symbol``'s row and the feed's state for the HTML, claiming the symbol for
        :data:`WARM_S` so that the browser's socket, a moment later, finds it watched
        (the upstream is not told to drop it and take it again in between). A symbol
        nobody watched has no price until its reference arrives: wait a little for it."""
        hub.acquire([symbol])
        IOLoop.current().call_later(WARM_S, hub.release, [symbol])
        row, _ = snapshot_row(hub, symbol)
        deadline = time.monotonic() + REFERENCE_WAIT_S
        while row.get("last") is None and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
            row, _ = snapshot_row(hub, symbol)
        return row, state_message(hub.health())


class SparklinePage(_EmbedHandler):
    """``GET /sparkline?symbol=AAPL``: the embed as a page (for an iframe)."""

    photon_door = Door.PAGE

    async def get(self) -> None:
        self.set_header("Content-Security-Policy", frame_ancestors(type(self).embed_origins))
        hub = type(self).hub or get_hub()
        args, symbol = self._args(hub)
        if symbol is None:
            self.set_status(404)
            self.finish(notice_page(unknown_text(args.symbol)))
            return
        if not self._allowed():  # framed, the browser will not show it (frame-ancestors)
            origin = urlsplit(self.request.headers.get("Referer", "")).netloc
            self.set_status(403)
            self.finish(notice_page(refusal_text(origin)))
            return
        row, state = await self._row(hub, symbol)
        self.finish(page_html(args, row, state, hub.history_len))


class SparklineScript(_EmbedHandler):
    """``GET /sparkline.js?symbol=AAPL``: the embed as a script in another site's page.

    Also answers Bokeh's ``server_document`` snippet (``/sparkline/autoload.js``, the
    script embed of earlier versions), drawing after the element it names.
    """

    async def get(self) -> None:
        self.set_header("Content-Type", "application/javascript; charset=UTF-8")
        # Bokeh's snippet fetches it with XHR from the other site: only listed sites may
        # read it that way (a <script> tag needs no CORS; what it shows is decided below).
        self.add_header("Vary", "Origin")
        if cors_allowed(self.request.headers.get("Origin"), type(self).embed_origins):
            self.set_header("Access-Control-Allow-Origin", self.request.headers["Origin"])
        element = self.get_query_argument("bokeh-autoload-element", "")
        if not self._allowed():
            origin = urlsplit(self.request.headers.get("Referer", "")).netloc
            self.finish(notice_js(refusal_text(origin), element))
            return
        hub = type(self).hub or get_hub()
        args, symbol = self._args(hub)
        if symbol is None:
            self.finish(notice_js(unknown_text(args.symbol), element))
            return
        row, state = await self._row(hub, symbol)
        base = self.get_query_argument("bokeh-absolute-url", "") if element else ""
        self.finish(script_js(args, row, state, hub.history_len, element, base))


#: The embed's routes (served by ``photon`` and ``panel serve app --plugins app.routes``).
ROUTES = [
    ("/sparkline", SparklinePage, {}),
    ("/sparkline.js", SparklineScript, {}),
    ("/sparkline/autoload.js", SparklineScript, {}),
    (SOCKET_PATH, SparkSocket, {}),
]


def install(origins: frozenset[str]) -> None:
    """Let the sites ``origins`` (``host:port``) embed: the page, the script, the socket."""
    _EmbedHandler.embed_origins = SparkSocket.embed_origins = frozenset(
        o.lower() for o in origins)

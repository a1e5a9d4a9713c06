"""``/sparkline?symbol=AAPL``: one symbol's live sparkline, price and change, to embed.

Served beside the board (``photon`` serves it; ``panel serve app
app/embed/sparkline.py --plugins app.routes`` too). It is a board of one symbol in
its compact form, on the same hub and fast lane as the board: an embed costs what a
board session with one symbol costs. Options: ``width``/``height`` of the sparkline
(px), ``points`` kept, ``theme=light|dark``. Embed it with an ``<iframe>`` or a
``server_document`` script (README); which sites may is ``PHOTON_EMBED_ORIGINS``.
"""

import html
import sys

import panel as pn

from app.config import get_settings
from app.embed.args import embed_args
from app.hub.hub import get_hub
from app.lanes import bokehlane, fastlane
from app.lanes.fastlane import PATH as FAST_PATH
from app.views import landmarks, theme
from app.views.dashboard import Dashboard

pn.extension()

settings = get_settings()
hub = get_hub(settings)
args = embed_args({k: b"".join(v).decode("utf-8", "replace")
                   for k, v in pn.state.session_args.items()}, hub.history_len)
pn.config.global_css = [*pn.config.global_css, theme.page_css(args.theme),
                        "body { margin: 0; background: transparent; }"]

# In a script embed the page is another site's: the fast lane must be addressed on
# this server, not relative to the page.
request = pn.state.curdoc.session_context.request if pn.state.curdoc.session_context else None
host = request.headers.get("Host", "") if request else ""
scheme = (request.headers.get("X-Forwarded-Proto", "http") if request else "http")
dash = Dashboard(
    hub=hub, symbols=[args.symbol] if args.symbol else [], max_symbols=1, compact=True,
    fast_lane=fastlane.get() if "app.routes" in sys.modules else None,
    fast_path=f"{scheme}://{host}{FAST_PATH}" if host else "." + FAST_PATH,
    bokeh_lane=bokehlane.get(),
)
# An iframe shows this as a page of its own: it gets a main landmark and an h1 naming
# the symbol, seen only by screen readers (a sighted viewer sees the symbol already).
# A script embed (Bokeh's server_document loads /sparkline/autoload.js) puts the same
# board inline in another site's page, often mid-sentence: that page has its own main
# and h1, and a second of each would be wrong there, so the fragment adds neither.
# Known by autoload.js's arguments, not its path: they stay in the session token, also
# when the WebSocket has to create the session again (the path is then /sparkline/ws).
script_embed = "bokeh-autoload-element" in pn.state.session_args
dash.board.param.update(spark_width=args.width, spark_height=args.height,
                        max_points=args.points, sizing_mode="fixed",
                        width=args.width + 230, height=max(args.height + 6, 28),
                        page_heading="" if script_embed else f"{args.symbol} live price")
if dash.symbols:
    dash.start()
    dash.servable(title=f"{args.symbol} · Photon")
else:
    dash.close()
    shown = html.escape(args.symbol) or "none given"
    notice = (f"<span role='alert'>Photon: unknown symbol ({shown}); "
              "use /sparkline?symbol=AAPL</span>")
    if not script_embed:  # a page of its own, as above
        notice = f"<main><h1 class='photon-sr'>Photon sparkline</h1>{notice}</main>"
    pn.pane.HTML(notice, stylesheets=[landmarks.SR_ONLY_CSS]).servable(title="Photon")

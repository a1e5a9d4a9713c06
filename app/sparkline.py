"""``/sparkline?symbol=AAPL``: one live sparkline for other sites' pages, run per session.

Served beside the board by ``photon`` (an iframe, or Bokeh's ``server_document``
script). It is a one-symbol :class:`~app.views.dashboard.Dashboard` whose board is a
:class:`~app.views.sparkline.SparklineView`: same hub, same fast lane, no picker.
Options: ``width``, ``height``, ``points``, ``theme=light|dark``.
"""

import sys
from urllib.parse import urlsplit

import panel as pn

from app import bokehlane, fastlane
from app.config import get_settings
from app.embed import origin_allowed, session_root
from app.hub import get_hub
from app.views import theme
from app.views.dashboard import Dashboard
from app.views.sparkline import SparklineView, clamp_int

pn.extension()


def arg(name: str) -> str:
    return b"".join(pn.state.session_args.get(name, [])).decode("utf-8", "replace")


settings = get_settings()
request = pn.state.curdoc.session_context.request
referer = urlsplit(request.headers.get("Referer", ""))
page_origin = f"{referer.scheme}://{referer.netloc}" if referer.netloc else ""
scheme = {"light": "light", "dark": "dark"}.get(theme.theme_from_arg(arg("theme")), "light dark")
height = clamp_int(arg("height"), 28, 12, 600)
style = f":host {{ color-scheme: {scheme}; }}"

if not origin_allowed(page_origin, request.headers.get("Host", ""), settings.embed_origins):
    # An iframe on a page not allowed: say so, instead of a blank box (its socket would work).
    pn.pane.HTML(
        f"<div class='photon-refused' role='alert'>Photon: live prices may not be embedded in "
        f"pages from {page_origin} (the Photon server's PHOTON_EMBED_ORIGINS does not list it)"
        "</div>", stylesheets=[(SparklineView._stylesheets[0]), style],
    ).servable(title="Photon sparkline")
else:
    root = session_root("sparkline")
    view = SparklineView(
        width=clamp_int(arg("width"), 240, 60, 2000), height=height,
        points=clamp_int(arg("points"), 120, 2, get_hub(settings).history_len),
        max_points=get_hub(settings).history_len, stylesheets=[style],
    )
    dashboard = Dashboard(
        hub=get_hub(settings), symbols=arg("symbol").upper()[:32] or "AAPL", max_symbols=1,
        push_interval_ms=settings.push_interval_ms, view=view,
        fast_lane=fastlane.get() if "app.routes" in sys.modules else None,
        bokeh_lane=bokehlane.get(), **({"fast_path": root + fastlane.PATH} if root else {}),
    )
    dashboard.start()
    view.servable(title=f"Photon · {dashboard.symbols[0] if dashboard.symbols else ''}")

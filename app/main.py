"""The dashboard page, run once per browser session by ``panel serve app``.

Only wiring: process-wide state lives in :mod:`app.hub.hub`.
"""

import sys

import panel as pn

from app.config import get_settings
from app.hub.hub import get_hub
from app.lanes import bokehlane, fastlane
from app.views import first_paint, page, theme
from app.views.boards import SavedBoard
from app.views.dashboard import Dashboard

# pn.extension() and pn.config.reconnect are set once for the process, in
# app_hooks.on_server_loaded: here they would run again for every session.

settings = get_settings()
# ?symbols= (even empty: a cleared board reloads cleared) overrides the defaults.
url_symbols = pn.state.session_args.get("symbols")
requested: list[str] | str = (
    list(settings.symbols) if url_symbols is None
    else ",".join(v.decode("utf-8", "replace") for v in url_symbols)
)


def url_arg(name: str) -> str:
    """One ``?name=`` of the page's URL as text ("" when absent)."""
    return ",".join(v.decode("utf-8", "replace") for v in pn.state.session_args.get(name, []))


# The user's saved board (?board=NAME, or the last one they opened), unless the URL's
# keys (?symbols=, ?sort=, ?alerts=) make an unsaved one (app/views/boards.py).
saved = SavedBoard({k: url_arg(k) if k in pn.state.session_args else None
                    for k in ("board", "owner", "symbols", "sort", "alerts", "theme")})
saved.show_in_url()
board = saved.opening.board if saved.from_store else None
if board is not None:
    requested = list(board.symbols)

# ?theme=light|dark, else the board's, else the browser's prefers-color-scheme
# (app/views/theme.py). Panel reads ?theme= for its widgets' design: a board's, it is told.
page_theme = saved.opening.theme
pn.config.global_css = [*pn.config.global_css, theme.page_css(page_theme)]
if page_theme == "dark" and "theme" not in pn.state.session_args:
    pn.config.theme = "dark"

dashboard = Dashboard(
    hub=get_hub(settings),
    symbols=requested,
    sort=board.sort if board else url_arg("sort"),  # ?sort=-change
    alerts=board.alerts if board else url_arg("alerts"),  # ?alerts=AAPL>230.5,NVDA~2%
    toolbar=saved.toolbar,
    max_symbols=settings.max_symbols,
    sync_url=True,
    # The fast lane needs its route: `photon`, or `panel serve app --plugins app.routes`.
    fast_lane=(fastlane.get() if settings.transport == "fast" and "app.routes" in sys.modules
               else None),
    bokeh_lane=bokehlane.get(),
    max_width=1100,
)
dashboard.start()
saved.start(dashboard)  # saves the board as it changes
dashboard.status.param.update(
    health_url="../health",  # /app -> /health, also under a --prefix
    title="Photon", subtitle="live market board",
)
# The prices as of this request, in the HTML itself: painted before BokehJS starts.
first_paint.install(pn.state.curdoc, dashboard)
page.install(pn.state.curdoc)  # the picker's and the URL's fixes (page.js)
dashboard.servable(title="Photon")

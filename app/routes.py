"""Panel plugin: ``panel serve app --plugins app.routes`` adds ``/health``, ``/metrics``,
the fast lane (Panel plugins expose ``ROUTES``), ``/history`` and the sparkline embed
(``/sparkline``, ``/sparkline.js``), and the saved boards' API (``/api/boards``). The
handlers live in :mod:`app.lanes.routes`, :mod:`app.history.handler`,
:mod:`app.embed.pages` and :mod:`app.boards.api`; this name stays because the README
and deployments use it.
"""

from app.access.identity import require_guarded
from app.boards.api import ROUTES as BOARD_ROUTES
from app.embed.pages import ROUTES as EMBED_ROUTES
from app.history.handler import HistoryHandler
from app.lanes.routes import ROUTES as LANE_ROUTES

# Each checks who calls (app/access/identity.py); one that does not stops the start.
ROUTES = require_guarded([*LANE_ROUTES, ("/history", HistoryHandler, {}), *EMBED_ROUTES,
                          *BOARD_ROUTES])

__all__ = ["ROUTES"]

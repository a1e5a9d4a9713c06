"""Panel plugin: ``panel serve app --plugins app.routes`` adds ``/health``, ``/metrics``,
the fast lane (Panel plugins expose ``ROUTES``) and ``/history``. The handlers live in
:mod:`app.lanes.routes` and :mod:`app.history.handler`; this name stays because the
README and deployments use it.
"""

from app.history.handler import HistoryHandler
from app.lanes.routes import ROUTES as LANE_ROUTES

ROUTES = [*LANE_ROUTES, ("/history", HistoryHandler, {})]

__all__ = ["ROUTES"]

"""Panel plugin: ``panel serve app --plugins app.routes`` adds ``/health``, ``/metrics``
and the fast lane (Panel plugins expose ``ROUTES``). The handlers live in
:mod:`app.lanes.routes`; this name stays because the README and deployments use it.
"""

from app.lanes.routes import ROUTES

__all__ = ["ROUTES"]

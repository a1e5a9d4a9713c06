"""Every private attribute Photon patches or relies on still exists, in the versions
installed, and those versions are within pyproject's pins.

Photon patches Bokeh (``app/runtime/server_fixes.py``, ``app/access/headers.py``),
Tornado's ``set_cookie`` (``app/access/headers.py``), Panel (``app/embed/policy.py``,
``app/views/esm.py``) and finnhub-python's session (``app/feeds/finnhub_rest.py``),
and shuts websocket-client's socket from another thread (``app/feeds/wsconn.py``).
A new release may rename any of these without notice: raise a pin in pyproject only
with this file green.
"""

from __future__ import annotations

import inspect
import tomllib
from importlib.metadata import version

import pytest
from packaging.requirements import Requirement

from tests.support import ROOT


def pins() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    return {(r := Requirement(text)).name: r for text in reqs}


@pytest.mark.parametrize("name", ["panel", "bokeh", "finnhub-python", "websocket-client",
                                  "ruff"])
def test_patched_dependencies_have_upper_bounds_that_the_installed_versions_meet(name):
    req = pins()[name]
    assert any(s.operator in ("<", "<=", "==") for s in req.specifier), req
    assert req.specifier.contains(version(name), prereleases=True), (
        f"{name} {version(name)} is installed but pyproject says {req}")


def test_bokeh_ws_handler_internals_server_fixes_patches():
    from bokeh.server.connection import ServerConnection
    from bokeh.server.views.ws import WSHandler
    from tornado.websocket import WebSocketHandler

    assert inspect.iscoroutinefunction(WSHandler._async_open)
    assert list(inspect.signature(WSHandler._async_open).parameters) == ["self", "token"]
    assert callable(WSHandler.on_close)
    assert "self._session" in inspect.getsource(ServerConnection.__init__)
    assert "self.ws_connection" in inspect.getsource(WebSocketHandler.__init__)


def test_panel_handlers_embed_policy_patches():
    from panel.io.server import AutoloadJsHandler, DocHandler

    assert inspect.iscoroutinefunction(AutoloadJsHandler.get)
    assert callable(DocHandler.set_default_headers)
    handler_source = inspect.getsource(AutoloadJsHandler.get)
    assert "bokeh-autoload-element" in handler_source  # the argument policy.py reads


def test_tornado_internals_access_headers_relies_on():
    from tornado.web import RequestHandler

    params = list(inspect.signature(RequestHandler.set_cookie).parameters)
    assert params[:7] == ["self", "name", "value", "domain", "expires", "path", "expires_days"]
    flush = inspect.getsource(RequestHandler.flush)
    # the transforms see the headers before the cookies join them (so the cookie flags
    # are set in set_cookie, not in the transform)
    assert flush.index("transform_first_chunk") < flush.index("_new_cookie")


def test_panel_esm_rendering_views_esm_overrides():
    from panel.config import config
    from panel.custom import JSComponent

    assert list(inspect.signature(JSComponent._render_esm).parameters) == ["compiled", "server"]
    assert isinstance(config.autoreload, bool)
    from app.views.status import StatusView  # a component built on it renders its source

    assert "export" in StatusView._render_esm(True, server=True)


def test_finnhub_client_session_finnhub_rest_rewrites():
    import finnhub
    import requests

    client = finnhub.Client(api_key="k-123")
    assert isinstance(client._session, requests.Session)
    assert client._session.params.get("token") == "k-123"  # what we move into a header
    assert hasattr(client, "API_URL") and hasattr(client, "DEFAULT_TIMEOUT")


def test_websocket_app_internals_wsconn_uses():
    import websocket

    app = websocket.WebSocketApp("ws://127.0.0.1:9")
    assert app.keep_running is False and app.sock is None
    assert hasattr(websocket.WebSocket(), "sock")

"""Embedding Photon in other pages: allowed origins and the server's own URL.

In a Bokeh ``server_document`` embed the page's location is the host page, so
URLs of Photon's own routes (fast lane, ``/health``) are made absolute here,
from the request that created the session, and the fast lane's WebSocket accepts
exactly the origins the operator listed in ``PHOTON_EMBED_ORIGINS`` besides its own.
"""

from __future__ import annotations

from urllib.parse import urlsplit


def parse_origins(raw: str) -> tuple[str, ...]:
    """``"https://a.example, http://b:8000"`` -> ``("https://a.example", "http://b:8000")``.

    Raises ValueError for ``*`` or anything that is not ``scheme://host[:port]``.
    """
    origins = []
    for item in (s.strip().rstrip("/") for s in raw.split(",")):
        if not item:
            continue
        parts = urlsplit(item)
        if item == "*" or parts.scheme not in ("http", "https") or not parts.hostname \
                or parts.path or parts.query or "*" in item:
            raise ValueError(item)
        origins.append(f"{parts.scheme}://{parts.netloc.lower()}")
    return tuple(origins)


def websocket_hosts(origins: tuple[str, ...]) -> list[str]:
    """``host:port`` of each origin, as Bokeh's ``--allow-websocket-origin`` wants them."""
    hosts = []
    for origin in origins:
        parts = urlsplit(origin)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        hosts.append(f"{parts.hostname}:{port}")
    return hosts


def origin_allowed(origin: str, host: str, allowed: tuple[str, ...]) -> bool:
    """May a WebSocket from page ``origin`` open on the server reached as ``host``?

    Its own origin always may (Tornado's default); others only when listed.
    """
    if not origin:
        return True  # not a browser: origins are a browser's protection
    parts = urlsplit(origin.strip().lower())
    if parts.netloc == host.lower():
        return True
    return f"{parts.scheme}://{parts.netloc}" in allowed


def server_root(host: str, path: str, app: str) -> str:
    """Photon's base URL (no trailing slash) from one request to its app ``app``.

    ``path`` is the request path: ``/app``, ``/sparkline/autoload.js``, or either
    under a proxy's prefix (``/photon/app``); the part before ``/app`` is kept.
    Scheme-relative (``//host/...``): the page's scheme, so a proxy that ends TLS
    in front of Photon does not turn it into mixed content.
    """
    cut = path.rfind(f"/{app}")
    prefix = path[:cut] if cut >= 0 else ""
    return f"//{host}{prefix}"


def session_root(app: str) -> str:
    """:func:`server_root` for the current Panel session, or "" outside a served session."""
    import panel as pn

    doc = pn.state.curdoc
    ctx = doc.session_context if doc is not None else None
    request = ctx.request if ctx is not None else None
    if request is None:
        return ""
    host = request.headers.get("Host", "")
    path = getattr(request, "path", None) or f"/{app}"
    return server_root(host, path, app) if host else ""

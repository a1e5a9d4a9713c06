"""Every door of a served Photon, and what it answers each kind of caller.

The table is README's *Sign-in* table: a test walks each route as someone anonymous,
signed in, signed in but not allowed ("other"), and holding an API token, and
compares the answer (HTTP status; 101 for a WebSocket let through the handshake).
"""

from __future__ import annotations

import requests
import websocket

#: (route, how it is reached). The embed's routes take a known symbol.
DOORS = [
    ("/app", "http"),
    ("/app/autoload.js?bokeh-autoload-element=x", "http"),
    ("/app/metadata", "http"),
    ("/app/ws", "ws"),
    ("/photon/ticks?token=x", "ws"),
    ("/photon/spark?symbol=AAPL", "ws"),
    ("/sparkline?symbol=AAPL", "http"),
    ("/sparkline.js?symbol=AAPL", "http"),
    ("/sparkline/autoload.js?symbol=AAPL&bokeh-autoload-element=x", "http"),
    ("/history?symbol=AAPL", "http"),
    ("/history?symbol=AAPL&format=csv", "http"),
    ("/metrics", "http"),
    ("/health", "http"),
    ("/api/boards", "http"),
]

LOGIN = "→ /login"
#: The answer of each route to each caller, sign-in on (basic or oauth alike).
EXPECTED = {
    #                                   anonymous  signed-in  other   token
    "/app":                              (LOGIN,    200,       LOGIN,  LOGIN),
    "/app/autoload.js?bokeh-autoload-element=x": (LOGIN, 200, LOGIN, LOGIN),
    "/app/metadata":                     (LOGIN,    200,       LOGIN,  LOGIN),
    "/app/ws":                           (403,      101,       403,    403),
    "/photon/ticks?token=x":             (401,      101,       403,    401),
    "/photon/spark?symbol=AAPL":         (401,      101,       403,    401),
    "/sparkline?symbol=AAPL":            (LOGIN,    200,       LOGIN,  LOGIN),
    "/sparkline.js?symbol=AAPL":         (401,      200,       403,    401),
    "/sparkline/autoload.js?symbol=AAPL&bokeh-autoload-element=x": (401, 200, 403, 401),
    "/history?symbol=AAPL":              (401,      200,       403,    200),
    "/history?symbol=AAPL&format=csv":   (401,      200,       403,    200),
    "/metrics":                          (401,      200,       403,    200),
    "/health":                           (200,      200,       200,    200),
    "/api/boards":                       (401,      200,       403,    200),
}
CALLERS = ("anonymous", "signed-in", "other", "token")


def forged_bokeh_token() -> str:
    """A session token for a session id nobody was given (Bokeh signs none by default)."""
    from bokeh.util.token import generate_jwt_token

    return generate_jwt_token("forged-session-id-0123456789abcdef0123", signed=False)


def answer(base: str, path: str, how: str, cookies: dict[str, str],
           headers: dict[str, str]) -> object:
    """What ``path`` answers: a status, LOGIN for a redirect to /login, 101 for a socket
    let in."""
    if how == "http":
        r = requests.get(base + path, cookies=cookies, headers=headers,
                         allow_redirects=False, timeout=10)
        if r.status_code in (301, 302, 303, 307) and "/login" in r.headers.get("Location", ""):
            return LOGIN
        return r.status_code
    url = base.replace("http://", "ws://", 1) + path
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items()) or None
    header = [f"{k}: {v}" for k, v in headers.items()]
    protocols = ["bokeh", forged_bokeh_token()] if path.startswith("/app/ws") else None
    try:
        ws = websocket.create_connection(url, cookie=cookie, header=header,
                                         subprotocols=protocols, timeout=10,
                                         origin=base)
    except websocket.WebSocketBadStatusException as exc:
        return exc.status_code
    ws.close()
    return 101


def health_body(base: str, cookies: dict[str, str], headers: dict[str, str]) -> dict:
    return requests.get(base + "/health", cookies=cookies, headers=headers, timeout=10).json()


def table(base: str, callers: dict[str, tuple[dict, dict]]) -> dict[str, tuple]:
    """``{route: (answer per caller in CALLERS order)}``; ``callers`` maps each name in
    CALLERS to its (cookies, headers)."""
    return {path: tuple(answer(base, path, how, *callers[c]) for c in CALLERS)
            for path, how in DOORS}


def mismatches(found: dict[str, tuple]) -> str:
    """The routes whose answers differ from :data:`EXPECTED`, one line each."""
    return "\n".join(
        f"{route}: {dict(zip(CALLERS, got, strict=True))} expected "
        f"{dict(zip(CALLERS, EXPECTED[route], strict=True))}"
        for route, got in found.items() if got != EXPECTED[route])

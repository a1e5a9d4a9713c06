"""What the security headers cost a response: the transform (app/access/headers.py)
timed on answers as Photon sends them, in the process, without a server.

    python -m bench.headers               # the board page, the sparkline page, JSON
    python -m bench.headers --html page.html   # also a page saved from a server

The page path's share of it is the board page's line: once per page request, on the
event loop. Prints microseconds per response (best of five runs); not a test.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from tornado.httputil import HTTPHeaders, HTTPServerRequest, RequestStartLine

from app.access.headers import SecurityHeaders


def board_page() -> bytes:
    """An HTML page shaped as Bokeh's board page: the same script elements (eight, one
    inline module, the render script with its token) around 7 kB."""
    head = "".join(f'<script defer src="static/js/b{i}.min.js?v={"0" * 128}"></script>\n'
                   for i in range(5))
    render = "(function(){" + "const x = 1;" * 130 + "})();"
    return (f'<!doctype html><html><head><script type="esms-options">{{"shimMode": true}}'
            f'</script>{head}<script type="module">Bokeh.set_log_level("info");</script>'
            f'<style>{"p{color:red}" * 200}</style></head><body>'
            f'<script type="application/json" id="p1">{{}}</script>'
            f'<script>{render}</script></body></html>').encode()


def cases(html: Path | None) -> dict[str, tuple[str, str, bytes]]:
    """name -> (path, content type, body)."""
    saved = {f"{html.name} (saved)": ("/app", "text/html", html.read_bytes())} if html else {}
    return {**saved,
        "board page (/app)": ("/app", "text/html", board_page()),
        "sparkline page": ("/sparkline", "text/html; charset=UTF-8",
                           b"<!doctype html><main>x</main><script>" + b"f();" * 5000
                           + b"</script>"),
        "JSON (/health)": ("/health", "application/json", b'{"status": "ok"}' * 30),
    }


def per_response_us(path: str, ctype: str, body: bytes, repeat: int) -> float:
    request = HTTPServerRequest(start_line=RequestStartLine("GET", path, "HTTP/1.1"),
                                headers=HTTPHeaders({"Host": "127.0.0.1"}))
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(repeat):
            headers = HTTPHeaders({"Content-Type": ctype, "Server": "TornadoServer/6",
                                   "Content-Length": str(len(body))})
            SecurityHeaders(request).transform_first_chunk(200, headers, body, True)
        best = min(best, time.perf_counter() - start)
    return best / repeat * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5000, help="responses per run")
    parser.add_argument("--html", type=Path, help="also an HTML page saved from a server "
                        "(curl -o page.html http://127.0.0.1:5006/app)")
    args = parser.parse_args()
    for name, (path, ctype, body) in cases(args.html).items():
        us = per_response_us(path, ctype, body, args.repeat)
        print(f"{name:<22} {len(body) / 1024:6.1f} kB   {us:7.1f} µs per response")


if __name__ == "__main__":
    main()

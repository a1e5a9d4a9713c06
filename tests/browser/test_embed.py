"""Live sparklines embedded in another site's page, both ways (iframe and Bokeh's
``server_document`` script); a site not in PHOTON_EMBED_ORIGINS is refused, visibly."""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading

import pytest
from bokeh.embed import server_document

from tests.support import free_port, photon_server, wait_until

pytestmark = pytest.mark.browser


@contextlib.contextmanager
def host_site(directory, port: int):
    """Another web site: static files from ``directory`` on its own port."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()


def host_page(photon: str) -> str:
    """Three sparklines, the README's two ways, two symbols."""
    script = server_document(f"{photon}/sparkline", arguments={"symbol": "AAPL"})
    return f"""<!doctype html><html><body>
<p>Apple <iframe id="f-aapl" src="{photon}/sparkline?symbol=AAPL" width="360" height="40"
  style="border:0"></iframe></p>
<p>Microsoft <iframe id="f-msft" src="{photon}/sparkline?symbol=MSFT&theme=dark" width="360"
  height="40" style="border:0"></iframe></p>
<div id="script-embed">{script}</div>
</body></html>"""


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("embed")
    allowed_port, other_port = free_port(), free_port()
    env = {"PHOTON_EMBED_ORIGINS": f"127.0.0.1:{allowed_port}"}
    with photon_server(tmp, env=env) as server:
        (tmp / "index.html").write_text(host_page(server.base))
        with host_site(tmp, allowed_port) as allowed, host_site(tmp, other_port) as other:
            yield server, allowed, other


def price(scope) -> str:
    loc = scope.locator(".photon-price")
    return loc.first.inner_text() if loc.count() else ""


def test_three_embedded_sparklines_render_and_update(sites, page):
    _, allowed, _ = sites
    page.goto(allowed + "/index.html")
    scopes = {"iframe AAPL": page.frame_locator("#f-aapl"),
              "iframe MSFT": page.frame_locator("#f-msft"),
              "script AAPL": page.locator("#script-embed")}
    for name, scope in scopes.items():
        first = wait_until(lambda s=scope: (p := price(s)).startswith("$") and p, timeout=30,
                           what=f"a price in the {name} embed")
        wait_until(lambda s=scope, f=first: price(s) not in ("", f), timeout=30,
                   what=f"the {name} embed updating")
        polyline = scope.locator(".photon-sparkline polyline").first
        wait_until(lambda p=polyline: len(p.get_attribute("points") or "") > 10, timeout=20,
                   what=f"a sparkline in the {name} embed")
    symbols = page.frame_locator("#f-msft").locator("[data-symbol]").evaluate_all(
        "els => els.map(e => e.dataset.symbol)")
    assert symbols == ["MSFT"]
    assert page.frame_locator("#f-aapl").locator(".photon-head").first.is_hidden()
    # an iframe is a page of its own, with a main landmark and an h1 naming the symbol;
    # the script puts a fragment into another site's page, which has its own
    assert page.frame_locator("#f-msft").locator("main h1").text_content() == "MSFT live price"
    assert page.locator("#script-embed .photon-board").count() == 1
    assert page.locator("#script-embed :is(main, h1, [role=main])").count() == 0


def test_a_site_not_allowed_is_refused_with_a_message(sites, page):
    server, _, other = sites
    page.goto(other + "/index.html")
    refusal = page.locator("#script-embed [role=alert]")
    refusal.wait_for(timeout=20_000)
    assert "may not embed" in refusal.inner_text()
    assert "PHOTON_EMBED_ORIGINS" in refusal.inner_text()
    page.wait_for_timeout(2000)
    for frame in ("#f-aapl", "#f-msft"):  # frame-ancestors: the browser will not show it
        assert page.frame_locator(frame).locator(".photon-board").count() == 0
    assert server.health()["sessions"] == 0  # refused before any session was made

"""Live sparklines embedded in another site's page, every way the README gives (iframe,
``/sparkline.js``) and Bokeh's ``server_document`` snippet of earlier versions; a site
not in PHOTON_EMBED_ORIGINS is refused, visibly; an embed that loses the server says
so and comes back; the server lets go of what embeds watched once they are gone."""

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


#: Before the embeds: a page whose network can be cut (``window.__cut = true``): open
#: sockets close and new ones fail, as when a laptop drops its Wi-Fi.
NETWORK_SWITCH = """<script>
window.__cut = false; window.__sockets = [];
const RealSocket = window.WebSocket;
window.WebSocket = class extends RealSocket {
  constructor(url, ...rest) {
    super(window.__cut ? "ws://127.0.0.1:9/" : url, ...rest);
    window.__sockets.push(this);
  }
};
window.cutNetwork = () => { window.__cut = true; window.__sockets.forEach((s) => s.close()) };
</script>"""


def host_page(photon: str) -> str:
    """Four sparklines, two symbols: two iframes, the README's script, Bokeh's snippet."""
    legacy = server_document(f"{photon}/sparkline", arguments={"symbol": "TSLA"})
    return f"""<!doctype html><html lang="en"><head>{NETWORK_SWITCH}</head><body>
<p>Apple <iframe id="f-aapl" src="{photon}/sparkline?symbol=AAPL" width="360" height="40"
  style="border:0"></iframe></p>
<p>Microsoft <iframe id="f-msft" src="{photon}/sparkline?symbol=MSFT&theme=dark" width="360"
  height="40" style="border:0"></iframe></p>
<p id="script-embed">Apple trades at
  <script src="{photon}/sparkline.js?symbol=AAPL&width=140" async></script> now.</p>
<div id="legacy-embed">{legacy}</div>
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



def embed_scopes(page) -> dict:
    """The four embeds of :func:`host_page`, by how they are embedded."""
    return {"iframe AAPL": page.frame_locator("#f-aapl"),
            "iframe MSFT": page.frame_locator("#f-msft"),
            "script AAPL": page.locator("#script-embed"),
            "server_document TSLA": page.locator("#legacy-embed")}


def wait_updating(name: str, scope) -> None:
    """Wait for the embed in ``scope`` to show a price, then a different one."""
    first = wait_until(lambda: (p := price(scope)).startswith("$") and p, timeout=30,
                       what=f"a price in the {name} embed")
    wait_until(lambda: price(scope) not in ("", first), timeout=30,
               what=f"the {name} embed updating")

def test_embedded_sparklines_render_and_update_without_bokeh(sites, page):
    server, allowed, _ = sites
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(allowed + "/index.html")
    scopes = embed_scopes(page)
    for name, scope in scopes.items():
        wait_updating(name, scope)
        polyline = scope.locator(".photon-sparkline polyline").first
        wait_until(lambda p=polyline: len(p.get_attribute("points") or "") > 10, timeout=20,
                   what=f"a sparkline in the {name} embed")
        assert scope.locator("[data-state=live]").count() == 1, name
    symbols = page.frame_locator("#f-msft").locator("[data-symbol]").evaluate_all(
        "els => els.map(e => e.dataset.symbol)")
    assert symbols == ["MSFT"]
    # an iframe is a page of its own, with a main landmark and an h1 naming the symbol;
    # a script puts a fragment into another site's page, which has its own
    assert page.frame_locator("#f-msft").locator("main h1").text_content() == "MSFT live price"
    assert page.locator("#script-embed .photon-spark").count() == 1
    assert page.locator("#script-embed :is(main, h1, [role=main])").count() == 0
    assert page.locator("#script-embed svg").evaluate("e => e.getBoundingClientRect().width") \
        == 140
    # the embeds' own code, and none of BokehJS or Panel
    assert not [u for u in requests if "/static/" in u or "bokeh" in u.split("?")[0]]
    assert wait_until(lambda: server.health()["sessions"] == 4, timeout=20,
                      what="a session per embed")
    assert [m for m in page.console if "WebSocket Connected" in m]


def test_an_embed_that_loses_the_server_says_so_and_comes_back(sites, page):
    server, allowed, _ = sites
    page.goto(allowed + "/index.html")
    embed = page.locator("#script-embed .photon-spark")
    embed.locator(".photon-price").filter(has_text="$").wait_for(timeout=30_000)
    page.locator("#script-embed [data-state=live]").wait_for(timeout=30_000)
    page.evaluate("cutNetwork()")
    page.locator("#script-embed [data-state=disconnected]").wait_for(timeout=10_000)
    assert "reconnecting" in embed.locator(".photon-stale-note").inner_text()
    held = embed.locator(".photon-price").inner_text()
    assert held.startswith("$")  # the last price stays, marked
    page.evaluate("window.__cut = false")
    page.locator("#script-embed [data-state=live]").wait_for(timeout=30_000)
    assert embed.locator(".photon-stale-note").inner_text() == ""
    wait_until(lambda: embed.locator(".photon-price").inner_text() != held, timeout=30,
               what="prices moving again after the reconnect")


def test_the_server_lets_go_once_the_embeds_are_gone(sites, browser):
    server, allowed, _ = sites
    context = browser.new_context()
    page = context.new_page()
    page.goto(allowed + "/index.html")
    page.locator("#script-embed [data-state=live]").wait_for(timeout=30_000)
    assert {"AAPL", "MSFT", "TSLA"} <= set(server.health()["symbols"])
    context.close()
    wait_until(lambda: server.health()["sessions"] == 0 and not server.health()["symbols"],
               timeout=30, what="every embed's symbol released")


def test_a_site_not_allowed_is_refused_with_a_message(sites, page):
    server, _, other = sites
    wait_until(lambda: server.health()["sessions"] == 0 and not server.health()["symbols"],
               timeout=30, what="no embed left from earlier tests")
    page.goto(other + "/index.html")
    refusal = page.locator("#script-embed [role=alert]")
    refusal.wait_for(timeout=20_000)
    assert "may not embed" in refusal.inner_text()
    assert "PHOTON_EMBED_ORIGINS" in refusal.inner_text()
    page.wait_for_timeout(2000)
    for frame in ("#f-aapl", "#f-msft"):  # frame-ancestors: the browser will not show it
        assert page.frame_locator(frame).locator(".photon-spark").count() == 0
    # Bokeh's older snippet reads the script with XHR, which CORS allows only to the
    # listed sites: here the browser withholds the answer, and nothing shows
    assert page.locator("#legacy-embed .photon-spark, #legacy-embed [role=alert]").count() == 0
    assert [m for m in page.console if "Access-Control-Allow-Origin" in m]
    health = server.health()  # refused before anything was watched
    assert health["sessions"] == 0 and health["symbols"] == []

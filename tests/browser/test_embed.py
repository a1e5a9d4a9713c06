"""Sparklines embedded in another site's page: an iframe and Bokeh's server_document
script, from an allowed origin (render and update) and from one not allowed (refused)."""

from __future__ import annotations

import contextlib
import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from bokeh.embed import server_document

from tests.browser.conftest import DEEP_QUERY
from tests.support import free_port, photon_server, wait_until

pytestmark = pytest.mark.browser

#: Each embed's symbol and the points string of its line (in this frame).
EMBEDS = """() => window.__deepAll('.photon-embed').map((e) => ({
  symbol: e.dataset.symbol || '', price: e.querySelector('.photon-price').textContent,
  line: e.querySelector('polyline').getAttribute('points') || ''}))"""


@contextlib.contextmanager
def host_site(directory, port: int):
    """A plain static site (the embedding page) on its own port."""
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(directory))
    httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def embedding_page(photon: str) -> str:
    return f"""<!doctype html><html><body>
<p>AAPL in a frame: <iframe id="f-aapl" src="{photon}/sparkline?symbol=AAPL&width=240&height=28"
  width="260" height="44" style="border:0"></iframe></p>
<p>AAPL by script: {server_document(photon + "/sparkline", arguments={"symbol": "AAPL"})}</p>
<p>TSLA by script: {server_document(photon + "/sparkline",
                                    arguments={"symbol": "TSLA", "theme": "dark"})}</p>
</body></html>"""


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("embed")
    allowed_port, other_port = free_port(), free_port()
    env = {"PHOTON_EMBED_ORIGINS": f"http://127.0.0.1:{allowed_port}"}
    with photon_server(tmp, env=env) as photon:
        (tmp / "embeds.html").write_text(embedding_page(photon.url("")))
        with host_site(tmp, allowed_port) as allowed, host_site(tmp, other_port) as other:
            yield photon, allowed, other


def embeds(page) -> list[dict]:
    """Every embed on the page, its own and those in its frames."""
    found = []
    for frame in page.frames:
        with contextlib.suppress(Exception):  # a frame still loading
            found += frame.evaluate(EMBEDS)
    return found


def test_three_embeds_render_and_update_on_an_allowed_site(browser, sites):
    photon, allowed, _ = sites
    page = browser.new_page()
    page.add_init_script(DEEP_QUERY)
    try:
        page.goto(f"{allowed}/embeds.html")
        page.wait_for_function(  # main page: the two script embeds
            "() => window.__deepAll('.photon-embed polyline[points*=\" \"]').length === 2",
            timeout=30_000)
        frame = page.frame_locator("#f-aapl")
        frame.locator(".photon-embed[data-symbol=AAPL] polyline").wait_for(state="attached")
        first = embeds(page)
        assert sorted(e["symbol"] for e in first) == ["AAPL", "AAPL", "TSLA"]
        assert all(e["price"] and e["line"] for e in first)
        # live: every embed's line moves (the frame's too)
        wait_until(lambda: all(a["line"] != b["line"]
                               for a, b in zip(first, embeds(page), strict=True)),
                   timeout=30, what="every embed's sparkline to move")
        # all three on the fast lane: the script embeds' sockets come from the other
        # site's origin, accepted because it is listed (else they fall back to Bokeh)
        wait_until(lambda: photon.health()["fast_lane_sockets"] == 3, what="3 fast-lane sockets")
    finally:
        page.close()


def test_a_site_not_allowed_is_refused_with_a_message(browser, sites):
    photon, _, other = sites
    page = browser.new_page()
    page.add_init_script(DEEP_QUERY)
    try:
        page.goto(f"{other}/embeds.html")
        frame = page.frame_locator("#f-aapl")
        note = frame.locator(".photon-refused")
        note.wait_for(timeout=30_000)
        assert "may not be embedded" in note.text_content()
        assert other in note.text_content()
        # the script embeds' sessions are refused their socket: nothing renders
        origin = f"Refusing websocket connection from Origin '{other}'"
        wait_until(lambda: photon.output().count(origin) >= 2, what="both sockets refused")
        assert embeds(page) == []
    finally:
        page.close()

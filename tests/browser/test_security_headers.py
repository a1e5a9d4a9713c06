"""Under the security headers (app/access/headers.py) everything still runs: Panel's
sign-in page, the board (BokehJS, Panel's JS components through es-module-shims, the
fast lane, a Bokeh chart) and the sparkline embeds in another site's page, with not
one Content-Security-Policy violation in any frame."""

from __future__ import annotations

import pytest

from tests.browser.helpers import open_board, prices
from tests.browser.test_embed import embed_scopes, host_page, host_site, wait_updating
from tests.support import free_port, photon_server, wait_until

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"  # Panel lower-cases PANEL_BASIC_AUTH

#: In every frame, before its scripts: each CSP violation kept and said on the console.
CSP_WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  const line = `CSP violation: ${e.violatedDirective} ${e.blockedURI} ` +
    `${e.sourceFile}:${e.lineNumber}`;
  window.__csp.push(line);
  console.error(line);
}, true);
"""


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("csp")
    allowed_port = free_port()
    env = {"PANEL_BASIC_AUTH": PASSWORD, "PANEL_COOKIE_SECRET": "test cookie secret 0123456789",
           "PHOTON_EMBED_ORIGINS": f"127.0.0.1:{allowed_port}", "PHOTON_HISTORY": "off"}
    with photon_server(tmp, env=env) as server:
        (tmp / "index.html").write_text(host_page(server.base))
        with host_site(tmp, allowed_port) as allowed:
            yield server, allowed


@pytest.fixture
def watched(page):
    page.add_init_script(CSP_WATCH)
    return page


def violations(page) -> list[str]:
    """Every CSP complaint seen: the console's (Chromium's own and the watcher's) and
    what each frame's watcher kept."""
    said = [m for m in page.console if "Content Security Policy" in m or "CSP violation" in m]
    kept = [v for f in page.frames for v in (f.evaluate("window.__csp || []") or [])]
    return said + kept


def test_sign_in_and_a_live_board_under_the_policy(sites, watched):
    server, _ = sites
    page = watched
    page.goto(server.url("/app?symbols=AAPL,TSLA"))
    page.locator("input[name=username]").wait_for(timeout=20_000)  # Panel's sign-in form
    page.fill("input[name=username]", "ann")
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button, form input[type=submit]").first.click()
    page.wait_for_url("**/app*", timeout=20_000)
    open_board(page, page.url)
    first = wait_until(lambda: (p := prices(page)) and "—" not in p.values() and p,
                       timeout=30, what="prices on the board")
    wait_until(lambda: prices(page) != first, timeout=30, what="the board going live")
    page.locator("[data-symbol=AAPL]").click()  # a Bokeh chart, streaming
    page.locator(".photon-chart canvas").first.wait_for(timeout=20_000)
    assert [m for m in page.console if "WebSocket Connected" in m]
    assert {c["name"] for c in page.context.cookies()} >= {"user"}
    assert all(c["httpOnly"] and c["sameSite"] == "Lax" for c in page.context.cookies())
    assert violations(page) == []


def test_embeds_in_another_sites_page_under_the_policy(sites, watched):
    _, allowed = sites
    page = watched
    page.goto(allowed + "/index.html")
    scopes = embed_scopes(page)
    for name, scope in scopes.items():
        wait_updating(name, scope)
        assert scope.locator("[data-state=live]").count() == 1, name
    assert len(page.frames) == 3  # the page and its two iframes, all watched
    assert violations(page) == []

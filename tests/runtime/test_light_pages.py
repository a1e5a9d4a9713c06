"""Light pages: what a first visit sends (app/runtime/server_fixes.py, installed by
app/app_hooks.py).

Pure parts (encodings, versioned URLs, extensions in use) and a served Photon: the
board's HTML names only the bundles it uses, each at a versioned URL the browser may
keep; the embed is one response of a few kB; every text response comes compressed.
"""

from __future__ import annotations

import gzip
import os
import re
import urllib.request

import pytest
from bokeh.embed.bundle import URL

from app.runtime import server_fixes
from tests.support import photon_server, wait_until


def test_accepted_encodings_best_first():
    assert server_fixes.accepted("gzip, deflate, br, zstd", brotli_ok=True) == ["br", "gzip"]
    assert server_fixes.accepted("gzip, deflate, br", brotli_ok=False) == ["gzip"]
    assert server_fixes.accepted("br;q=0, gzip;q=0.5", brotli_ok=True) == ["gzip"]
    assert server_fixes.accepted("identity", brotli_ok=True) == []
    assert server_fixes.accepted("", brotli_ok=True) == []


def test_panel_static_urls_get_panel_version():
    from panel.io.resources import JS_VERSION

    shims = "static/extensions/panel/bundled/reactiveesm/es-module-shims.min.js"
    assert server_fixes.versioned(shims) == f"{shims}?v={JS_VERSION}"
    assert server_fixes.versioned(URL(shims)).url == f"{shims}?v={JS_VERSION}"
    kept = ["static/extensions/panel/panel.min.js?v=abc", "static/js/bokeh.min.js?v=1",
            "https://cdn.example/x.js"]
    assert [server_fixes.versioned(u) for u in kept] == kept


def test_used_extensions_are_those_of_the_models():
    import panel as pn

    table = pn.widgets.Tabulator(value=None).get_root()
    models = table.references()
    assert server_fixes.used_extensions(models) == ["tabulator"]
    assert server_fixes.used_extensions(pn.pane.Markdown("x").get_root().references()) == []


def test_packed_files_gzip_now_brotli_later_within_the_limit(tmp_path):
    import brotli

    data = b"function f(){return 42}\n" * 2000
    path = tmp_path / "x.js"
    path.write_bytes(data)
    files = server_fixes.PackedFiles(limit=10_000)
    assert files.ready(str(path), 1.0, ["gzip"]) is None
    body = files.gzip(str(path), 1.0)
    assert gzip.decompress(body) == data
    assert files.ready(str(path), 1.0, ["gzip"]) == (body, "gzip")
    files.ready(str(path), 1.0, ["br", "gzip"])  # asks for brotli in the background
    got = wait_until(lambda: (r := files.ready(str(path), 1.0, ["br", "gzip"]))
                     and r[1] == "br" and r, what="brotli made")
    assert brotli.decompress(got[0]) == data and len(got[0]) < len(body)
    assert files.ready(str(path), 2.0, ["gzip"]) is None  # a changed file is new
    big = tmp_path / "big.js"
    big.write_bytes(os.urandom(20_000))  # does not compress: over the limit
    assert files.gzip(str(big), 1.0) is None and files.size <= files.limit


def fetch(url: str) -> tuple[dict[str, str], bytes]:
    req = urllib.request.Request(url, headers={"Accept-Encoding": "gzip, deflate, br"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return {k.lower(): v for k, v in r.headers.items()}, r.read()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with photon_server(tmp_path_factory.mktemp("light")) as s:
        yield s


@pytest.mark.server
def test_page_sends_only_its_bundles_compressed_and_cacheable(server):
    headers, body = fetch(server.url("/app"))
    assert headers.get("content-encoding") == "gzip"
    html = gzip.decompress(body).decode()
    urls = [u for u in re.findall(r'(?:src|href)="(static/[^"]+)"', html)
            if re.search(r"\.(js|css)\b", u)]  # not the template's apple-touch-icon
    scripts = [u for u in urls if ".js" in u]
    assert any("bokeh.min.js" in u for u in scripts) and any("panel.min.js" in u for u in scripts)
    for unused in ("tabulator", "luxon", "bokeh-gl"):
        assert not [u for u in urls if unused in u], unused
    for url in urls:
        assert re.search(r"[?&]v=", url), url
        headers, body = fetch(server.url("/" + url))
        assert "max-age=315360000" in headers.get("cache-control", ""), url
        if len(body) > 2000:
            assert headers.get("content-encoding") in ("gzip", "br"), url


@pytest.mark.server
@pytest.mark.parametrize("path", ["/sparkline?symbol=AAPL", "/sparkline.js?symbol=AAPL"])
def test_the_embed_is_one_small_compressed_response(server, path):
    headers, body = fetch(server.url(path))
    assert headers.get("content-encoding") == "gzip"
    text = gzip.decompress(body).decode()
    assert "$" in text  # the price is in it
    assert not re.search(r"<script[^>]*\bsrc=|<link[^>]*stylesheet", text.replace("\\u003c", "<"))
    assert len(body) < 10_000, len(body)  # a few kB, where BokehJS alone is 600 kB


@pytest.mark.server
def test_favicon_compressed_and_kept_a_day(server):
    headers, body = fetch(server.url("/favicon.ico"))
    assert headers.get("content-encoding") == "gzip"
    assert len(gzip.decompress(body)) > len(body)
    assert headers.get("cache-control") == "max-age=86400"


@pytest.mark.server
def test_pages_of_each_theme_keep_their_own_css_with_bundles_shared(server):
    """Bundles are made once per kind of page (app/runtime/page_bundle.py): a dark
    page after a light one still carries the dark page's CSS, and the other way round."""
    for _ in range(2):
        for theme, scheme in (("light", "light"), ("dark", "dark"), ("", "light dark")):
            _, body = fetch(server.url(f"/app?theme={theme}"))
            html = gzip.decompress(body).decode()
            assert f"color-scheme: {scheme};" in html, theme

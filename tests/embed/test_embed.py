"""Embeds: query options (app.embed.args) and who may embed (app.embed.policy)."""

import json

from app.embed.args import EmbedArgs, embed_args
from app.embed.policy import allowed, frame_ancestors, refusal_js


def test_embed_args_are_clamped_and_defaulted():
    assert embed_args({"symbol": " aapl "}) == EmbedArgs("AAPL")
    assert embed_args({"symbol": "X", "width": "9999", "height": "1", "points": "abc",
                       "theme": "dark"}, max_points=100) == EmbedArgs("X", 600, 8, 60, "dark")
    assert embed_args({"points": "1000"}, max_points=240).points == 240
    assert embed_args({"theme": "<b>"}).theme == "auto" and embed_args({}).symbol == ""


def test_only_the_servers_own_pages_and_listed_sites_may_embed():
    origins = frozenset({"example.com:8080"})
    assert allowed("http://example.com:8080/page.html", "photon:5006", origins)
    assert allowed("http://photon:5006/app", "photon:5006", origins)
    assert not allowed("http://evil.test/", "photon:5006", origins)
    assert not allowed("http://example.com:9090/", "photon:5006", origins)  # port counts
    assert allowed(None, "photon:5006", origins)  # no referer: the socket checks decide


def test_frame_ancestors_never_a_wildcard():
    assert frame_ancestors([]) == "frame-ancestors 'self'"
    assert frame_ancestors(["a.test:80"]) == (
        "frame-ancestors 'self' http://a.test:80 https://a.test:80")


def test_the_refusal_names_the_site_and_escapes_what_it_is_given():
    js = refusal_js('x");alert(1);("', "evil.test")
    assert json.dumps('x");alert(1);("') in js  # the id only as a JSON string
    assert "evil.test" in js and "PHOTON_EMBED_ORIGINS" in js
    assert js.count("{") == js.count("}") and js.endswith("})();")


def test_the_embed_row_is_escaped_and_says_why_prices_are_not_live():
    from app.embed.pages import row_html, script_js

    args = EmbedArgs("AAPL", width=140, height=20, points=3)
    row = {"symbol": "AAPL", "price": "$1<b>", "change": "+1.00 (+1.00%)", "trend": 1,
           "last": 1.0, "note": "", "points": [[60.0 * i, 1.0 + i] for i in range(10)]}
    live = {"state": "live", "note": ""}
    html = row_html(row, args, 240, live)
    assert "$1&lt;b&gt;" in html and "<b>" not in html
    assert 'data-state="live"' in html and "photon-stale" not in html.split(">")[0]
    assert "width:140px;height:20px" in html
    assert 2 <= html.count(",") <= 3  # at most 3 points kept, as `points=3` asks
    stale = row_html(row, args, 240, {"state": "stale", "note": "Feed stale: showing…"})
    assert "photon-spark photon-stale" in stale and ">Feed stale: showing…</span>" in stale
    noted = row_html({**row, "note": "not on your plan"}, args, 240, live)
    assert ">not on your plan</span>" in noted  # the row's own note, when the feed is live
    falling = {**row, "change": "—", "trend": 0, "points": [[0.0, 2.0], [60.0, 1.0]]}
    assert "photon-spark-down" in row_html(falling, args, 240, live)  # no close: the line's
    js = script_js(args, {**row, "symbol": "</script><script>alert(1)//"}, live, 240)
    assert "</script>" not in js and "<script>" not in js

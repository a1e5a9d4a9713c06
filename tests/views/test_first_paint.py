"""The board's prices written into /app's HTML (app/views/first_paint.py): escaped,
drawn as the board draws them, and ahead of BokehJS's (deferred) scripts."""

from __future__ import annotations

import random
import re
import urllib.request

import pytest

from app.quotes import Quote
from app.views.first_paint import (
    ELEMENT_ID,
    cached_spark_coords,
    first_paint_html,
    sorted_rows,
    spark_coords,
    spark_slots,
    with_latest,
)
from tests.nodejs import run_module
from tests.support import photon_server, wait_until

ROW = {"symbol": "AAPL", "last": 190.5, "price": "$190.50", "change": "+1.50 (+0.79%)",
       "trend": 1, "volume": "1.2K", "points": [[60.0, 189.0], [120.0, 190.5]]}


def test_rows_become_a_table_with_prices_that_report_their_paint():
    html = first_paint_html([ROW, {**ROW, "symbol": "TSLA", "price": "—", "last": None,
                                   "trend": 0, "points": []}])
    assert html.startswith(f'<div id="{ELEMENT_ID}">')
    assert [m for m in re.findall(r'<th scope="row">([^<]+)</th>', html)] == ["AAPL", "TSLA"]
    # only a real price is timed (bench/probes/pageload.py: when a price was painted)
    assert html.count('elementtiming="photon-price"') == 1
    assert '<td class="px" elementtiming="photon-price">$190.50</td>' in html
    assert '<td class="chg up">▲ +1.50 (+0.79%)</td>' in html
    assert html.count("<polyline") == 1  # no line from fewer than two points
    assert first_paint_html([]) == ""
    # how the feed was at the request: a stale feed's prices are not shown as fresh
    assert "prices as of page load · Finnhub: stale</p>" in first_paint_html(
        [ROW], feed="Finnhub: stale")


def test_a_symbol_just_watched_shows_its_reference_price(hand_hub):
    """Its first viewer too: the hub has the reference price before it publishes it."""
    sub = hand_hub.subscribe(["AAPL"])  # the manual feed's reference: prev close 100
    hand_hub.feed.push("AAPL", 101.0, ts=1.0)
    assert hand_hub.quote("AAPL") is None  # not published yet
    unpriced = {**ROW, "last": None, "price": "—", "points": []}
    [row] = with_latest([unpriced], hand_hub.latest_quote)
    assert row["price"] == "$101.00" and row["change"].startswith("+1.00")
    assert with_latest([ROW], lambda s: Quote(s, last=1.0)) == [ROW]  # priced: kept
    assert with_latest([unpriced], lambda s: None) == [unpriced]
    sub.close()


def test_everything_written_is_escaped():
    html = first_paint_html([{**ROW, "symbol": "<img src=x onerror=alert(1)>",
                              "price": "<b>1</b>", "change": "\"'&", "volume": "<i>"}],
                            title="<script>", subtitle="&", feed="<u>")
    assert "<img" not in html and "<b>" not in html and "<script>" not in html
    assert "<u>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "&quot;&#x27;&amp;" in html


def test_the_sparkline_is_placed_as_the_browser_places_it():
    rng = random.Random(3)
    cases = []
    for _ in range(20):
        t, pts = 0.0, []
        for _ in range(rng.randint(0, 40)):
            t += rng.choice([0.5, 3.0, 61.0, 3600.0])
            pts.append([t, round(rng.uniform(90, 110), 2)])
        cases.append(pts)
    from_js = run_module("spark.js", "console.log(JSON.stringify(input.map((c) => "
                         "m.sparkSlots(c))))", cases)
    for case, slots in zip(cases, from_js, strict=True):
        assert spark_slots(case) == pytest.approx(slots)
    # the line spans the width, the highest price at the top margin
    coords = spark_coords([[0.0, 5.0], [60.0, 5.0], [120.0, 6.0]]).split()
    assert coords[0].startswith("0.0,") and coords[-1] == "120.0,2.0"


def test_served_page_paints_prices_before_its_scripts(tmp_path):
    with photon_server(tmp_path) as server:
        url = server.url("/app?symbols=AAPL,TSLA")

        def page(query: str = "") -> str:
            with urllib.request.urlopen(url + query, timeout=10) as r:
                return r.read().decode()

        # the first session makes the symbols watched; a later page has their prices
        html = wait_until(lambda: (h := page()).count('elementtiming="photon-price"') == 2
                          and h, timeout=30, what="a page with both prices in its HTML")
        # in the order the board will show (?sort=)
        assert re.findall(r'<th scope="row">([^<]+)</th>', page("&sort=-symbol")) == [
            "TSLA", "AAPL"]
    first_paint = html.index(f'id="{ELEMENT_ID}"')
    scripts = [m.start() for m in re.finditer(r"<script[^>]* src=", html)]
    assert scripts and all(i > first_paint for i in scripts)  # prices first
    # nothing holds the paint (each tag whole: the CSP's nonce goes in it too)
    assert all(" defer" in html[i:html.index(">", i)] for i in scripts)
    head = html[:html.index("<body")]
    assert "<script defer" not in head and "Bokeh.set_log_level" not in head
    assert re.findall(r'<th scope="row">([^<]+)</th>', html) == ["AAPL", "TSLA"]
    assert "prices as of page load · Mock: live" in html


def test_a_line_is_drawn_once_per_symbol_and_set_of_points():
    day = [[60.0 * m, 100.0 + m % 3] for m in range(240)]
    first = cached_spark_coords("AAPL", day)
    assert first == spark_coords(day)
    assert cached_spark_coords("AAPL", [list(p) for p in day]) is first  # the same line
    moved = [*day[1:], [60.0 * 240, 105.0]]  # a new point, the oldest thinned away
    assert cached_spark_coords("AAPL", moved) == spark_coords(moved) != first
    assert cached_spark_coords("TSLA", day) == first  # another symbol: its own entry


def test_only_the_newest_line_of_each_symbol_is_kept(monkeypatch):
    """The points move on every hub cycle, so an older line is never asked for again:
    a day of cycles keeps one line per symbol, not one per cycle."""
    from app.views import first_paint

    monkeypatch.setattr(first_paint, "_LINES", {})
    day = [[60.0 * m, 100.0 + m % 3] for m in range(240)]
    for cycle in range(50):
        for symbol in ("AAPL", "TSLA"):
            day = [*day[1:], [60.0 * (240 + cycle), 101.0 + cycle % 5]]
            assert cached_spark_coords(symbol, day) == spark_coords(day)
    assert sorted(first_paint._LINES) == ["AAPL", "TSLA"]
    assert cached_spark_coords("TSLA", day) is first_paint._LINES["TSLA"][1]


#: board_ui.js's own order of the same rows, for each ``?sort=``.
ORDER_JS = """
const out = {}
for (const text of input.sorts) {
  const rows = input.rows.map((r) => ({...r, pct: m.parsePct(r.change),
                                       vol: m.parseVolume(r.volume)}))
  out[text] = m.orderRows(rows, m.parseSort(text)).map((r) => r.symbol)
}
console.log(JSON.stringify(out))
"""


def test_rows_come_in_the_order_the_board_will_show():
    rng = random.Random(5)
    symbols = ["AAPL", "TSLA", "NVDA", "MSFT", "GOOGL", "AMZN", "META", "BINANCE:BTCUSDT",
               "OANDA:EUR_USD", "NFLX"]
    rows = []
    for sym in symbols:
        last = rng.choice([None, round(rng.uniform(10, 500), 2), 100.0])
        pct = rng.choice([None, 0.5, round(rng.uniform(-5, 5), 2)])
        rows.append({"symbol": sym, "last": last,
                     "change": "—" if pct is None else f"{pct * 2:+,.2f} ({pct:+.2f}%)",
                     "volume": rng.choice(["—", "950", "12.3K", "12.3K", "4.56M", "1.2B"])})
    sorts = ["", "symbol", "-symbol", "last", "-last", "change", "-change", "volume",
             "-volume"]
    from_js = run_module("board_ui.js", ORDER_JS, {"rows": rows, "sorts": sorts})
    for text in sorts:
        assert [r["symbol"] for r in sorted_rows(rows, text)] == from_js[text], text

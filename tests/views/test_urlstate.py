"""The board's URL state (?symbols=, ?sort=, ?alerts=) and the Dashboard keeping it:
sort and alerts validated where they enter, alerts following the rows."""

from __future__ import annotations

import json
from urllib.parse import unquote

import pytest

from app.views.dashboard import Dashboard
from app.views.urlstate import parse_sort, with_query


@pytest.mark.parametrize(("raw", "want"), [
    ("change", "change"), ("-change", "-change"), (" -Volume ", "-volume"), ("symbol", "symbol"),
    ("", ""), (None, ""), ("--last", ""), ("price", ""), ("-", ""), ("<b>", ""),
])
def test_parse_sort(raw, want):
    assert parse_sort(raw) == want


def test_with_query_replaces_keys_and_keeps_the_rest():
    got = with_query("?theme=dark&sort=last&symbols=X", symbols="AAPL,TSLA", sort="-change",
                     alerts="AAPL>230.5,TSLA<200,NVDA~2%")
    assert unquote(got) == ("?theme=dark&symbols=AAPL,TSLA&sort=-change"
                            "&alerts=AAPL>230.5,TSLA<200,NVDA~2%")
    # empty sort/alerts leave the URL; an empty selection stays (a cleared board reloads cleared)
    assert with_query(got, symbols="", sort="", alerts="") == "?theme=dark&symbols="


@pytest.fixture
def hub(hand_hub):
    return hand_hub


def test_alerts_are_validated_and_follow_the_rows(hub):
    dash = Dashboard(hub=hub, symbols="AAPL,TSLA", alerts="aapl>230.5,TSLA<200,MSFT>1,x>>1")
    assert dash.alerts == "AAPL>230.5,TSLA<200"
    assert [a["key"] for a in json.loads(dash.board.alerts)] == ["AAPL>230.5", "TSLA<200"]
    assert "MSFT>1" in dash.message and "x>>1" in dash.message
    assert dash.board.message == dash.message  # shown as text by board.js
    dash.board._handle_msg({"type": "alerts", "text": "AAPL>230.5,TSLA<200,TSLA~2%"})
    assert dash.alerts == "AAPL>230.5,TSLA<200,TSLA~2%" and dash.message == ""
    dash.board._handle_msg({"type": "remove", "symbol": "TSLA"})  # Delete on a row
    assert dash.symbols == ["AAPL"] and hub.refcounts() == {"AAPL": 1}
    assert dash.alerts == "AAPL>230.5"  # its alerts went with it
    dash.board._handle_msg({"type": "alerts", "text": 5})  # junk from the page: ignored
    assert dash.alerts == "AAPL>230.5"
    dash.close()


def test_sort_comes_from_the_url_or_a_header_click(hub):
    dash = Dashboard(hub=hub, symbols="AAPL,TSLA", sort="-change")
    assert dash.sort == dash.board.sort == "-change"
    dash.board.sort = "volume"  # the browser sets it on a header click
    assert dash.sort == "volume"
    dash.board.sort = "nonsense"
    assert dash.sort == "" and dash.board.sort == ""
    dash.close()


def test_keyboard_shortcuts_only_on_a_page_of_its_own(hub):
    page, notebook = Dashboard(hub=hub, sync_url=True), Dashboard(hub=hub)
    embed = Dashboard(hub=hub, sync_url=True, compact=True)
    assert page.board.shortcuts and not notebook.board.shortcuts and not embed.board.shortcuts
    for d in (page, notebook, embed):
        d.close()


def test_escape_closes_the_chart(hub):
    dash = Dashboard(hub=hub, symbols="AAPL")
    dash.board._handle_msg({"type": "chart", "symbol": "AAPL"})
    assert dash.chart is not None and dash.chart.running
    chart = dash.chart
    dash.board._handle_msg({"type": "close_chart"})
    assert dash.chart is None and not chart.running
    dash.close()

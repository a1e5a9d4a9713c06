"""The per-session Dashboard (app.views.dashboard) against a hand-driven hub, no server."""

from __future__ import annotations

import json

import panel as pn
import pytest
from bokeh.models import UIElement

from app.views.dashboard import Dashboard


@pytest.fixture
def hub(hand_hub):
    return hand_hub


def test_selection_is_the_subscription(hub):
    dash = Dashboard(hub=hub, symbols="tsla, AAPL")
    assert dash.symbols == ["TSLA", "AAPL"]
    assert hub.refcounts() == {"TSLA": 1, "AAPL": 1}
    assert [r["symbol"] for r in dash._board.rows] == ["TSLA", "AAPL"]
    # the board keeps its full state as one JSON string, not as nested lists
    assert isinstance(dash.board.snapshot, str)
    assert json.loads(dash.board.snapshot) == dash.board.rows
    dash._picker.value = ["MSFT"]  # the viewer edits the picker
    assert hub.refcounts() == {"MSFT": 1}
    dash.symbols = ["googl", "MSFT"]  # or code sets the parameter
    assert hub.refcounts() == {"GOOGL": 1, "MSFT": 1}
    assert dash._picker.value == ["GOOGL", "MSFT"] and dash.symbols == ["GOOGL", "MSFT"]
    dash.close()
    dash.close()
    assert hub.refcounts() == {} and hub.sessions == 0


def test_refused_input_is_reported_as_plain_text(hub):
    dash = Dashboard(hub=hub, symbols="AAPL,<b>x</b>,NOPE", max_symbols=5)
    assert dash.symbols == ["AAPL"]
    assert "<b>x</b>" in dash.message and "NOPE" in dash.message
    # the board shows it as text (board.js sets textContent): nothing is parsed as HTML
    assert dash.board.message == dash.message
    dash.select("AAPL")
    assert dash.board.message == ""
    dash.close()


def test_push_sends_only_changed_symbols_once_per_cycle(hub):
    feed = hub.feed
    dash = Dashboard(hub=hub, symbols=["AAPL", "TSLA"])
    hub.publish()
    dash.push()
    feed.push("AAPL", 101.0, ts=1.0)
    feed.push("AAPL", 102.0, ts=2.0)
    hub.publish()
    dash.push()
    sent = dash._board.last_delta
    delta = json.loads(sent)
    assert [r["symbol"] for r in delta["rows"]] == ["AAPL"]
    assert delta["rows"][0]["price"] == "$102.00"
    assert delta["points"] == {"AAPL": [[2.0, 102.0]]}
    assert (delta["cycle"], delta["at"]) == (hub.cycle, hub.changes_since(0, []).at)
    # the cadence travels with the update (the status line shows it), in ms
    assert delta["every"] == hub.push_interval_ms > 0
    dash.push()  # nothing new: the delta is not re-sent
    assert dash._board.last_delta is sent
    dash.close()


def test_open_universe_feeds_accept_any_well_formed_symbol(hub):
    hub.feed.open_universe = True
    dash = Dashboard(hub=hub, symbols="binance:solusdt,AAPL,bad!sym")
    assert dash.symbols == ["BINANCE:SOLUSDT", "AAPL"]
    assert "BINANCE:SOLUSDT" in dash._picker.options.values()
    assert "bad!sym" in dash.message
    dash.close()


def test_a_page_of_its_own_has_landmarks_and_a_notebook_none(hub):
    from bokeh.document import Document

    page = Dashboard(hub=hub, symbols="AAPL", sync_url=True)
    root = pn.panel(page).get_root(Document())
    roles = {type(m).__name__: m.html_attributes.get("role") for m in root.select(
        {"type": UIElement}) if m.html_attributes}
    assert roles == {"MultiChoice": "search", "Column": "main"}
    main = next(m for m in root.select({"type": UIElement})
                if m.html_attributes.get("role") == "main")
    assert page._main.objects == [page.board] and len(main.children) == 1
    page.open_chart("AAPL")  # the chart goes under the board, in the main landmark
    assert len(main.children) == 2 and page._main.objects[-1] is page._chart_view
    assert len(page._layout.objects) == 3
    page.close_chart()
    assert page._main.objects == [page.board] and len(main.children) == 1
    page.close()

    notebook = Dashboard(hub=hub, symbols="AAPL")
    root = pn.panel(notebook).get_root(Document())
    assert not any(m.html_attributes for m in root.select({"type": UIElement}))
    notebook.open_chart("AAPL")  # the chart goes under the board, in the one column
    assert len(notebook._layout.objects) == 4
    assert notebook._layout.objects[-1] is notebook._chart_view
    notebook.close()


@pytest.fixture
def served_doc(monkeypatch):
    """A document as in a served session (it has a session context), set as current."""
    from types import SimpleNamespace

    from bokeh.document import Document
    from panel.io.state import set_curdoc, state

    doc = Document()
    context = SimpleNamespace(request=SimpleNamespace(arguments={}, headers={}, cookies={}),
                              server_context=None, id="test")
    doc._session_context = lambda: context  # Bokeh keeps a weak reference
    with set_curdoc(doc):
        yield doc
    state._locations.pop(doc, None)
    state._loaded.pop(doc, None)


def recording_hold(monkeypatch) -> list[bool]:
    """Replace Panel's hold with one that records; returns [inside a hold now]."""
    import contextlib

    held = [False]
    entered = []

    @contextlib.contextmanager
    def hold(doc=None, *args, **kwargs):
        outer = not held[0]
        if outer:  # a hold inside a hold sends nothing of its own
            entered.append(doc)
        held[0] = True
        try:
            yield
        finally:
            held[0] = not outer

    monkeypatch.setattr(pn.io, "hold", hold)
    held.append(entered)  # held[1]: the document of each outermost hold
    return held


def test_a_picker_change_reaches_the_browser_as_one_message(hub, served_doc, monkeypatch):
    from panel.io.state import state

    held = recording_hold(monkeypatch)
    dash = Dashboard(hub=hub, symbols="AAPL,TSLA", sync_url=True)
    # building the page: no hold (Panel would drop what it collects before the browser
    # connects, counting on the document being sent in full)
    assert held[1] == []
    assert state.location.search == "?symbols=AAPL,TSLA"
    monkeypatch.setitem(state._loaded, served_doc, True)  # the browser connected
    seen = []
    dash.board.param.watch(lambda e: seen.append(("rows", held[0])), "snapshot")
    dash.status.param.watch(lambda e: seen.append(("status", held[0])),
                            list(dash.status.param))
    state.location.param.watch(lambda e: seen.append(("url", held[0])), "search")
    dash._picker.value = ["TSLA", "MSFT"]  # the viewer edits the picker
    assert state.location.search == "?symbols=TSLA,MSFT"
    kinds = {kind for kind, _ in seen}
    assert {"rows", "url"} <= kinds and all(inside for _, inside in seen), seen
    assert held[1] == [served_doc]  # one hold: one message
    del seen[:], held[1][:]
    dash.set_sort("-change")  # a header click: the board's order and the URL
    dash.set_alerts("TSLA>1")  # the alerts and the URL
    assert state.location.search == "?symbols=TSLA,MSFT&sort=-change&alerts=TSLA%3E1"
    assert seen and all(inside for _, inside in seen), seen
    assert held[1] == [served_doc, served_doc]
    dash.close()


def test_outside_a_served_session_changes_go_as_they_come(hub, monkeypatch):
    held = recording_hold(monkeypatch)
    dash = Dashboard(hub=hub, symbols="AAPL")  # a notebook: no session context
    dash.select("TSLA")
    dash.set_sort("last")
    assert held[1] == [] and dash.symbols == ["TSLA"]
    dash.close()

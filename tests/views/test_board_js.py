"""The pure parts of the board's JavaScript, run by node: the sort order and reading the
numbers a row shows (board_ui.js); a notebook comm's reader kept in step (comm_resync.js)."""

from __future__ import annotations

from tests.nodejs import run_module

RUN = """
const rows = [
  {symbol: "MSFT", last: 400, pct: -2, vol: 1200},
  {symbol: "AAPL", last: 200, pct: 1, vol: null},
  {symbol: "TSLA", last: null, pct: null, vol: 50},
  {symbol: "NVDA", last: 120, pct: 1, vol: 4.56e6},
]
const order = (text) => m.orderRows(rows, m.parseSort(text)).map((r) => r.symbol)
console.log(JSON.stringify({
  none: order(""), change: order("change"), down: order("-change"), last: order("-last"),
  symbol: order("symbol"), volume: order("volume"), junk: order("price"),
  sortText: [m.sortText(m.parseSort("-Volume")), m.sortText(m.parseSort("--last"))],
  pct: ["+1.23 (+0.82%)", "-1,234.50 (-12.50%)", "—"].map(m.parsePct),
  vol: ["950", "12.3K", "4.56M", "1.2B", "—"].map(m.parseVolume),
}))
"""


def test_sorting_helpers():
    got = run_module("board_ui.js", RUN)
    assert got["none"] == ["MSFT", "AAPL", "TSLA", "NVDA"]  # the picker's order
    assert got["change"] == ["MSFT", "AAPL", "NVDA", "TSLA"]  # ties by symbol, unknown last
    assert got["down"] == ["AAPL", "NVDA", "MSFT", "TSLA"]  # unknown last either way
    assert got["last"] == ["MSFT", "AAPL", "NVDA", "TSLA"]
    assert got["symbol"] == ["AAPL", "MSFT", "NVDA", "TSLA"]
    assert got["volume"] == ["TSLA", "MSFT", "NVDA", "AAPL"]
    assert got["junk"] == got["none"]
    assert got["sortText"] == ["-volume", ""]
    assert got["pct"] == [0.82, -12.5, None]
    assert got["vol"] == [950, 12300, 4560000, 1200000000, None]


#: A notebook's comm as Panel's CommManager reads it: pieces (header, metadata,
#: content) into a Receiver, dropped while the output is not indexed yet. Messages
#: 1-4 are sent; the output is indexed between the header and the rest of message 2.
#: Two outputs: the board's (patched when it renders, through its document) and a
#: chart's, made after it, which the same patch reaches through their class.
COMM = """
class Receiver {  // Bokeh's, reduced: header, then metadata, then content
  constructor() { this.parts = []; this.message = null }
  consume(text) {
    this.parts.push(JSON.parse(text)); this.message = null
    if (this.parts.length === 3) {
      const [header, metadata, content] = this.parts
      this.message = {header, metadata, content}; this.parts = []
    }
  }
}
function managerClass() {
  return class CommManager {  // Panel's, reduced
    constructor() { this.indexed = false; this._receiver = new Receiver()
                    this.applied = []; this.errors = 0 }
    msg_handler(msg) {
      if (!this.indexed) return  // Panel: `if (plot == null) return`
      this._receiver.consume(msg.content.data)
      const got = this._receiver.message
      if (got == null) return
      try { for (const e of got.content.events) this.applied.push(e.new) } catch { this.errors++ }
    }
  }
}
const pieces = (n) => input.messages[n - 1]  // as Bokeh's Python side makes them
function feed(mgr) {  // Panel's comm calls this.msg_handler(msg) on each piece
  const send = (text) => mgr.msg_handler({content: {data: text}})
  send(pieces(1)[0]); send(pieces(1)[1]); send(pieces(1)[2])
  send(pieces(2)[0]); mgr.indexed = true; send(pieces(2)[1]); send(pieces(2)[2])
  for (const n of [3, 4]) for (const p of pieces(n)) send(p)
  return {applied: mgr.applied, errors: mgr.errors}
}
const Plain = managerClass()
const Board = managerClass(), board = new Board()
m.resyncOnHeaders({roots: () => [board, {name: "a plain root"}]})
const Page = managerClass(), early = new Page()
const window = {PyViz: {shared_views: new Map([["plot-1", [early]]])}}
console.log(JSON.stringify({
  as_panel_reads_it: feed(new Plain()),
  board: feed(board), chart_after_the_board: feed(new Board()),
  no_views_yet: m.resyncPyViz({PyViz: {shared_views: new Map()}}), page: m.resyncPyViz(window),
  shown_before: feed(early), shown_after: feed(new Page()),
  headers: [...pieces(1), '{"msgtype": 1}', "not json msgtype"].map(m.isMessageHeader),
}))
"""


def test_a_notebook_comm_reader_cut_mid_message_resyncs_at_the_next_header():
    got = run_module("comm_resync.js", COMM, {"messages": patch_messages(4)})
    # Panel alone: message 2 cut in half, and every later one read out of step, for good
    assert got["as_panel_reads_it"]["applied"] == []
    assert got["as_panel_reads_it"]["errors"] >= 1
    # resynced at each header: only the cut message is lost, for every output of the
    # class, whether the board's render or the notebook's script patched it
    resynced = {"applied": ["text 3", "text 4"], "errors": 0}
    assert got["board"] == got["chart_after_the_board"] == resynced
    assert got["no_views_yet"] is False and got["page"] is True
    assert got["shown_before"] == got["shown_after"] == resynced
    assert got["headers"] == [True, False, False, False, False]


def patch_messages(n: int) -> list[list[str]]:
    """``n`` PATCH-DOC messages in the pieces Panel's notebook comm sends (its
    ``panel.io.notebook.send``: header, metadata, content), made by Bokeh."""
    from bokeh.document import Document
    from bokeh.document.events import ModelChangedEvent
    from bokeh.models import Div
    from bokeh.protocol import Protocol

    doc, div = Document(), Div()
    doc.add_root(div)
    out = []
    for i in range(1, n + 1):
        msg = Protocol().create("PATCH-DOC", [ModelChangedEvent(doc, div, "text", f"text {i}")])
        out.append([msg.header_json, msg.metadata_json, msg.content_json])
    return out


HISTORY = """
const calls = []
const history = {pushState: (s, t, u) => calls.push(["push", u]),
                 replaceState: (s, t, u) => calls.push(["replace", u])}
const win = {history, location: {href: "http://h:5006/app?symbols=AAPL",
                                 origin: "http://h:5006", pathname: "/app"}}
const undo = m.oneHistoryEntry(win)
win.history.pushState({}, "", "/app?symbols=AAPL,MSFT")  // Panel's Location, a query
win.history.pushState({}, "", "?symbols=MSFT&sort=-change")
win.history.pushState({}, "", "/other")  // another page: a new entry, as before
win.history.pushState({}, "", "http://elsewhere:1/app")
undo()
win.history.pushState({}, "", "/app?symbols=TSLA")
console.log(JSON.stringify(calls))
"""


def test_the_boards_url_changes_replace_its_history_entry():
    assert run_module("page.js", HISTORY) == [
        ["replace", "/app?symbols=AAPL,MSFT"], ["replace", "?symbols=MSFT&sort=-change"],
        ["push", "/other"], ["push", "http://elsewhere:1/app"], ["push", "/app?symbols=TSLA"]]

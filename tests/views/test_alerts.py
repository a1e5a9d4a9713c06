"""Price alerts: parsing the ``?alerts=`` syntax, and the one rule of firing (once per
crossing, re-armed when the price goes back), in Python and in alerts.js alike."""

from __future__ import annotations

import pytest

from app.views.alerts import MAX_ALERTS, Alert, holds, parse_alert, parse_alerts, step
from tests.nodejs import run_module

ALERTS_JS = "alerts.js"


def test_the_three_kinds_and_their_canonical_text():
    got = parse_alerts("AAPL>230.5,TSLA<200,NVDA~2%")
    assert got.alerts == (Alert("AAPL", ">", 230.5), Alert("TSLA", "<", 200.0),
                          Alert("NVDA", "~", 2.0))
    assert got.text() == "AAPL>230.5,TSLA<200,NVDA~2%"
    assert got.message() == ""


def test_symbols_are_normalised_and_duplicates_kept_once():
    got = parse_alerts("aapl>230.50,AAPL>230.5,nvda~2,BINANCE:BTCUSDT<60000.25")
    assert got.text() == "AAPL>230.5,NVDA~2%,BINANCE:BTCUSDT<60000.25"


@pytest.mark.parametrize("entry", [
    "AAPL", "AAPL>", ">230", "AAPL>=230", "AAPL>abc", "AAPL>-5", "AAPL>0", "AAPL>2%",
    "NVDA~0%", "NVDA~150%", "AAPL>1e5", "<script>alert(1)</script>", "AAPL>230>1",
    "A" * 80 + ">1", "AAPL>nan", "AAPL>inf",
])
def test_malformed_entries_are_refused(entry):
    assert parse_alert(entry) is None


def test_a_malformed_alert_is_named_and_the_others_kept():
    got = parse_alerts("AAPL>230.5,TSLA<<200,<img src=x onerror=alert(1)>,NVDA~2%")
    assert got.text() == "AAPL>230.5,NVDA~2%"
    assert got.malformed == ("TSLA<<200", "<img", "src=x", "onerror=alert(1)>")
    assert "TSLA<<200" in got.message()  # named as typed: the board sets it as text


def test_alerts_on_symbols_not_on_the_board_are_named():
    got = parse_alerts("AAPL>1,MSFT<2", watched={"AAPL"})
    assert got.text() == "AAPL>1"
    assert got.unwatched == ("MSFT<2",)
    assert "MSFT<2" in got.message()


def test_at_most_max_alerts():
    raw = ",".join(f"AAPL>{i}" for i in range(1, MAX_ALERTS + 6))
    got = parse_alerts(raw)
    assert len(got.alerts) == MAX_ALERTS and got.over_cap == 5
    assert str(MAX_ALERTS) in got.message()


def test_empty_and_none():
    assert parse_alerts(None).alerts == () and parse_alerts("").alerts == ()


def test_conditions():
    above, below, move = Alert("A", ">", 10), Alert("A", "<", 10), Alert("A", "~", 2)
    assert holds(above, 10, None) and holds(above, 11, None) and not holds(above, 9.99, None)
    assert holds(below, 10, None) and not holds(below, 10.01, None)
    assert holds(move, 102, 100) and holds(move, 98, 100) and not holds(move, 101.9, 100)
    assert not holds(move, 150, None)  # no base yet: a move cannot be measured
    assert not holds(above, None, None)


#: (alert, base, prices, expected fired flags): fired once per crossing, re-armed on the way back.
CASES = [
    ({"op": ">", "value": 10}, None, [9, 10, 11, 12, 9, 10.5, 10.5, 8],
     [False, True, False, False, False, True, False, False]),
    ({"op": "<", "value": 10}, None, [12, 11, 9.5, 9, 11, 10], [False, False, True, False,
                                                                  False, True]),
    # already holds when the page opens: fires at the first price
    ({"op": ">", "value": 10}, None, [15, 16], [True, False]),
    ({"op": "~", "value": 2}, 100, [101, 102.5, 103, 100.5, 97.9, 99],
     [False, True, False, False, True, False]),
    ({"op": ">", "value": 10}, None, [None, 11, None, 12], [False, True, False, False]),
]


def run_python(case) -> list[bool]:
    spec, base, prices, _ = case
    alert, armed, out = Alert("X", spec["op"], spec["value"]), True, []
    for p in prices:
        fired, armed = step(alert, armed, p, base)
        out.append(fired)
    return out


@pytest.mark.parametrize("case", CASES)
def test_fires_once_per_crossing(case):
    assert run_python(case) == case[3]


RUN_JS = """
const cases = input
const out = cases.map(([spec, base, prices]) => {
  let armed = true
  return prices.map((p) => { const [fired, a] = m.alertStep(spec, armed, p, base); armed = a;
                             return fired })
})
console.log(JSON.stringify({out, words: m.alertWords({op: "~", value: 2}, 120)}))
"""


def test_alerts_js_fires_like_python():
    got = run_module(ALERTS_JS, RUN_JS, [[c[0], c[1], c[2]] for c in CASES])
    assert got["out"] == [run_python(c) for c in CASES]
    assert got["words"] == "moved 2% or more from $120.00"


BOOK_JS = """
const book = new m.AlertBook()
const up = {key: "A>103", symbol: "A", op: ">", value: 103}
const move = {key: "A~5%", symbol: "A", op: "~", value: 5}
const keys = (r) => r.fired.map((st) => st.alert.key)
const out = []
book.set([up, move], () => 100)         // set while A is at 100: the move's base
out.push(keys(book.check("A", 104)))    // above 103 already: fires at the first price
out.push(keys(book.check("A", 105)))    // +5 %: the move fires; the other holds: no repeat
book.set([up, move], () => 999)         // the same list again keeps each state
out.push(keys(book.check("A", 106)))
const r = book.check("B", 1)
out.push([r.count, r.hit, book.check("A", 101).hit])  // B has none; A back: both re-armed
out.push(keys(book.check("A", 104)))    // and the level fires again
console.log(JSON.stringify(out))
"""


def test_the_browsers_alert_book_keeps_state_across_updates():
    assert run_module(ALERTS_JS, BOOK_JS) == [["A>103"], ["A~5%"], [], [0, False, False],
                                          ["A>103"]]

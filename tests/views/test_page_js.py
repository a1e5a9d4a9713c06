"""The page's fixes to Bokeh's picker (app/views/page.js), run by node against a stand-in
for the Choices.js instance Bokeh builds: chips in the chosen order, the list closed
after a pick, and an option read as set while the instance is built."""

from __future__ import annotations

from tests.nodejs import run_module

#: A Choices.js stand-in: items in the order they were added, as Choices keeps them.
FAKE = """
class FakeChoices {
  constructor(items) { this.items = items.slice(); this.calls = []; this.open = true
    this.listeners = {}
    this.passedElement = {element: {addEventListener: (t, f) => { this.listeners[t] = f }}} }
  getValue(valueOnly) { return this.items.slice() }
  removeActiveItems() { this.calls.push("removeActiveItems"); this.items = [] }
  setChoiceByValue(values) { this.calls.push("set"); this.items.push(...values) }
  hideDropdown(keepFocus) { this.open = false; this.keptFocus = keepFocus }
}
"""

ORDER = FAKE + """
const c = new FakeChoices(["AAPL", "GOOGL", "TSLA"])  // the options' (alphabetical) order
const moved = m.keepValueOrder(c, ["AAPL", "TSLA", "GOOGL"])
const same = new FakeChoices(["AAPL", "TSLA"])
const kept = m.keepValueOrder(same, ["AAPL", "TSLA"])
console.log(JSON.stringify({moved, items: c.items, kept, calls: same.calls}))
"""


def test_chips_follow_the_chosen_order_and_are_left_alone_when_they_do():
    got = run_module("page.js", ORDER)
    assert got == {"moved": True, "items": ["AAPL", "TSLA", "GOOGL"], "kept": False,
                   "calls": []}


CLOSE = FAKE + """
const c = new FakeChoices(["AAPL"])
m.closeOnPick(c)
const before = c.open
c.listeners.choice()  // Enter or a click on an option
setTimeout(() => console.log(JSON.stringify({before, after: c.open, keptFocus: c.keptFocus})), 5)
"""


def test_a_pick_closes_the_list_and_keeps_the_search_focused():
    assert run_module("page.js", CLOSE) == {"before": True, "after": False, "keptFocus": True}


OPTION = """
const seen = {}
const inside = m.withInheritedOption("allowHTML", false, () => {
  const config = {}  // as Bokeh's options literal: no allowHTML of its own
  seen.read = config.allowHTML
  config.allowHTML = true  // as a merge of Choices' defaults would write it
  seen.afterWrite = config.allowHTML
  seen.enumerable = Object.keys(config).includes("allowHTML")
  return config
})
let threw = null
try { m.withInheritedOption("x", 1, () => { throw new Error("boom") }) }
catch (e) { threw = e.message }
console.log(JSON.stringify({...seen, own: Object.hasOwn(inside, "allowHTML"),
  after: ({}).allowHTML === undefined, left: "x" in {}, threw}))
"""


def test_an_option_is_read_as_set_while_building_and_is_gone_after():
    assert run_module("page.js", OPTION) == {
        "read": False, "afterWrite": False, "enumerable": False, "own": False,
        "after": True, "left": False, "threw": "boom"}


def test_the_page_script_is_a_module_that_installs_both_fixes():
    from app.views import page

    assert page.SCRIPT.startswith('<script type="module">')
    assert "export " not in page.SCRIPT and page.SCRIPT.count("</script>") == 1
    assert "\noneHistoryEntry(window)\nfixPicker(window.Bokeh)\n" in page.SCRIPT

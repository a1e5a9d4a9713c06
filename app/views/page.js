// The board page's fixes to what Panel and Bokeh do in the browser, installed by a
// script in the page itself (app/views/page.py), after BokehJS has loaded and before it
// renders anything: a fix installed by a component could come after the first render.

// -- the URL -------------------------------------------------------------------------
// The page's URL follows the board (?symbols=, ?sort=, ?alerts=; Panel's Location sets
// it with history.pushState). A history entry per picker change would make Back step
// through URLs the board no longer follows (Panel does not listen for popstate): Back
// changed the address, not the board. A change of the query alone replaces the entry
// instead, so Back leaves the board as it came. Returns the undo.
export function oneHistoryEntry(win) {
  const history = win.history
  const push = history.pushState
  history.pushState = function (state, title, url) {
    const next = url == null ? null : new URL(url, win.location.href)
    if (next && next.origin === win.location.origin && next.pathname === win.location.pathname) {
      return history.replaceState(state, title, url)
    }
    return push.call(history, state, title, url)
  }
  return () => { history.pushState = push }
}

// -- the picker ------------------------------------------------------------------------
// Panel's MultiChoice is Bokeh's, whose view builds a Choices.js instance (v10) from
// options of its own. Three things it gets wrong for a ticker picker:
// - chips in the options' order (alphabetical) rather than the value's (the order the
//   viewer chose, which the rows follow): AAPL, GOOGL, TSLA over rows AAPL, TSLA, GOOGL;
//   and a pick then sent that order back, reshuffling the rows;
// - the list stays open over the board after a pick;
// - no `allowHTML` in its options: Choices.js then renders labels as HTML and logs a
//   deprecation warning on every page load.

// Run `fn` while every object reads `key` as `value` (Object.prototype), and nothing
// can set it. Bokeh builds the options it gives Choices.js inside its render(), out of
// our reach; Choices.js reads `allowHTML` from them (no warning when it is there) and
// merges its own default (true) in with deepmerge, which skips a key an object inherits
// or, should it not, writes it through the setter here, which ignores it. So the
// instance built inside `fn` has no allowHTML of its own and renders text. Synchronous,
// non-enumerable, and gone when `fn` returns.
export function withInheritedOption(key, value, fn) {
  if (Object.prototype.hasOwnProperty(key)) return fn()
  Object.defineProperty(Object.prototype, key, {
    configurable: true, enumerable: false, get() { return value }, set() {},
  })
  try { return fn() } finally { delete Object.prototype[key] }
}

// Chips in `value`'s order: Choices.js adds preselected items in the options' order.
// Choices' own API (no change event: the model already holds this value).
export function keepValueOrder(choices, value) {
  const shown = choices.getValue(true)
  if (JSON.stringify(shown) === JSON.stringify(value)) return false
  choices.removeActiveItems()
  choices.setChoiceByValue(value)
  return true
}

// Close the list once a ticker is picked (Enter or a click), keeping the focus in the
// search so the next one can be typed (typing opens the list again).
export function closeOnPick(choices) {
  choices.passedElement.element.addEventListener("choice", () => {
    setTimeout(() => choices.hideDropdown(true), 0)  // after Choices has added the item
  })
}

// Patch Bokeh's MultiChoice view (every picker on the page) once.
export function fixPicker(bokeh) {
  const view = bokeh.require("models/widgets/multi_choice").MultiChoiceView.prototype
  if (view.photonFixed) return
  const render = view.render
  view.render = function () {
    withInheritedOption("allowHTML", false, () => render.call(this))
    this.choice_el.config.allowHTML = false  // said plainly, for what renders later
    keepValueOrder(this.choice_el, this.model.value)
    closeOnPick(this.choice_el)
  }
  view.photonFixed = true
}

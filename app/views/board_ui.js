// Board pieces around the rows: sorting, the shortcuts help, the alert editor, fired
// alert notices. Loaded into one module with alerts.js and board.js (board.py). Every
// string is set as text: nothing here is parsed as HTML.

// h("button", {type: "button", class: "x"}, "text", child): an element, attributes set
// with setAttribute, strings appended as text nodes.
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v == null) continue
    node.setAttribute(k, v === true ? "" : String(v))
  }
  node.append(...children.filter((c) => c != null))
  return node
}

// -- sorting ------------------------------------------------------------------
export const SORT_COLUMNS = {symbol: "Symbol", last: "Last", change: "Change", volume: "Volume"}
// What a column's figure is, where its name alone does not say (the header's tooltip).
export const COLUMN_TITLES = {
  change: "Change since the previous close",
  volume: "Volume today: the session's shares traded so far, extended hours included",
}

// "-change" -> {key: "change", dir: -1}; "" or unknown -> {key: null, dir: 1}.
export function parseSort(text) {
  const t = (text || "").trim().toLowerCase()
  const key = t.replace(/^-/, "")
  return key in SORT_COLUMNS ? {key, dir: t.startsWith("-") ? -1 : 1} : {key: null, dir: 1}
}

export function sortText(sort) {
  return sort.key ? (sort.dir < 0 ? "-" : "") + sort.key : ""
}

// The number a viewer sees in "+1.23 (+0.82%)": the percentage (changes across
// prices compare by percent); null when unknown ("—").
export function parsePct(text) {
  const m = /\(([-+]?[\d,.]+)%\)/.exec(text || "")
  return m ? parseFloat(m[1].replace(/,/g, "")) : null
}

// "950", "12.3K", "4.56M", "1.2B" -> a number; null when unknown.
export function parseVolume(text) {
  const m = /^([\d.]+)([KMB]?)$/.exec((text || "").trim())
  if (!m) return null
  return parseFloat(m[1]) * ({"": 1, K: 1e3, M: 1e6, B: 1e9}[m[2]])
}

// The header row: a columnheader per column; the sortable ones hold a button (what a
// click sorts by) and carry aria-sort while they order the rows.
export function makeHeader(compact, onSort) {
  const header = h("div", {class: "photon-row photon-head", role: "row"})
  const heads = {}
  const columns = [...Object.entries(SORT_COLUMNS), [null, "Updated"], [null, "Trend"]]
  if (!compact) columns.push([null, "Alerts"])
  for (const [key, text] of columns) {
    const head = h("span", {class: "head", role: "columnheader"}, key ? null : text)
    if (key) {
      const button = h("button", {type: "button", class: "photon-sort",
                                  title: COLUMN_TITLES[key]}, text,
                       h("span", {class: "photon-sort-mark", "aria-hidden": "true"}))
      button.addEventListener("click", () => onSort(key))
      head.append(button)
      heads[key] = head
    }
    header.append(head)
  }
  return {header, heads}
}

export function paintSortHeads(heads, sort) {
  for (const [key, head] of Object.entries(heads)) {
    const on = sort.key === key
    if (on) head.setAttribute("aria-sort", sort.dir < 0 ? "descending" : "ascending")
    else head.removeAttribute("aria-sort")
    head.querySelector(".photon-sort-mark").textContent = on ? (sort.dir < 0 ? " ▼" : " ▲") : ""
  }
}

// Rows ({symbol, last, pct, vol}) in `sort` order: unknown values last whichever the
// direction, ties by symbol; no sort key: the order given (the picker's).
export function orderRows(rows, sort) {
  if (!sort.key) return rows.slice()
  const value = (r) => sort.key === "symbol" ? r.symbol
    : sort.key === "last" ? r.last : sort.key === "change" ? r.pct : r.vol
  return rows.slice().sort((a, b) => {
    const va = value(a), vb = value(b)
    if (va == null || vb == null) {
      if (va == null && vb == null) return a.symbol < b.symbol ? -1 : 1
      return va == null ? 1 : -1
    }
    const c = typeof va === "string" ? va.localeCompare(vb) : va - vb
    return c ? c * sort.dir : (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0)
  })
}

// A bell (drawn: fonts with emoji are not everywhere), decorative: the button has words.
export function bellIcon() {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg")
  svg.setAttribute("viewBox", "0 0 16 16")
  svg.setAttribute("class", "photon-bell-icon")
  svg.setAttribute("aria-hidden", "true")
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path")
  path.setAttribute("d", "M8 1.5a4 4 0 0 0-4 4v3L2.5 11h11L12 8.5v-3a4 4 0 0 0-4-4zM6.5 12.5a1.5 1.5 0 0 0 3 0")
  svg.append(path)
  return svg
}

// -- keyboard shortcuts ---------------------------------------------------------
export const SHORTCUTS = [
  ["/", "Search tickers (type, then Enter adds the highlighted match)"],
  ["Esc", "Leave the search; close the alert editor, or the chart"],
  ["j or ↓", "Next row"],
  ["k or ↑", "Previous row"],
  ["Enter", "Open the focused row's chart"],
  ["Delete", "Remove the focused row"],
  ["a", "Alerts of the focused row"],
  ["?", "Show these shortcuts"],
]

// Keys typed into a text field are the field's, never a shortcut.
export function isTextField(node) {
  if (!node || node.nodeType !== 1) return false
  if (node.isContentEditable) return true
  const tag = node.tagName
  if (tag === "TEXTAREA" || tag === "SELECT") return true
  if (tag !== "INPUT") return false
  return !["button", "checkbox", "radio", "submit", "reset", "range", "color"]
    .includes((node.type || "").toLowerCase())
}

export function makeHelp() {
  const close = h("button", {type: "button", class: "photon-button"}, "Close")
  const rows = SHORTCUTS.map(([k, what]) => h("tr", {}, h("th", {scope: "row"}, h("kbd", {}, k)),
                                               h("td", {}, what)))
  const dialog = h("dialog", {class: "photon-help", "aria-labelledby": "photon-help-title"},
    h("h2", {id: "photon-help-title"}, "Keyboard shortcuts"),
    h("table", {}, h("thead", {}, h("tr", {}, h("th", {scope: "col"}, "Key"),
                                     h("th", {scope: "col"}, "Does"))),
      h("tbody", {}, ...rows)),
    close)
  close.addEventListener("click", () => dialog.close())
  return dialog
}

// -- alerts ---------------------------------------------------------------------
const OP_WORDS = {">": "is at or above", "<": "is at or below", "~": "moves by (%)"}

export function alertKey(symbol, op, value) {
  const v = String(Number(value.toFixed(6)))
  return `${symbol}${op}${v}${op === "~" ? "%" : ""}`
}

// The editor of one row's alerts: its list with Remove buttons, and a form to add
// one. It does not keep alerts: it asks (onChange) for a new list and the server
// answers with the validated one (refresh).
export function makeAlertEditor({onChange, onClose}) {
  const title = h("h2", {id: "photon-alert-title", class: "photon-alert-title"})
  const list = h("ul", {class: "photon-alert-list"})
  const op = h("select", {name: "op", id: "photon-alert-op"},
    ...Object.entries(OP_WORDS).map(([v, words]) => h("option", {value: v}, words)))
  const value = h("input", {name: "value", id: "photon-alert-value", type: "number",
                            step: "any", min: "0", required: true, inputmode: "decimal"})
  const add = h("button", {type: "submit", class: "photon-button"}, "Add alert")
  const done = h("button", {type: "button", class: "photon-button"}, "Done")
  const notify = h("button", {type: "button", class: "photon-button", hidden: true},
                   "Allow desktop notifications")
  const form = h("form", {class: "photon-alert-editor", "aria-labelledby": "photon-alert-title",
                          hidden: true},
    title, list,
    h("div", {class: "photon-alert-fields"},
      h("label", {for: "photon-alert-op"}, "When the price"), op,
      h("label", {for: "photon-alert-value"}, "Value"), value, add, done, notify))
  const state = {symbol: null, keys: [], alerts: []}

  function refresh(alerts) {
    state.keys = alerts.map((a) => a.key)
    state.alerts = alerts
    if (!state.symbol) return
    const mine = alerts.filter((a) => a.symbol === state.symbol)
    list.replaceChildren(...mine.map((a) => {
      const remove = h("button", {type: "button", class: "photon-button",
                                  "aria-label": `Remove ${a.key}`}, "Remove")
      remove.addEventListener("click", () => {
        onChange(state.keys.filter((k) => k !== a.key).join(","))
        value.focus()
      })
      return h("li", {}, h("span", {class: "photon-alert-key"}, a.key), " ",
               h("span", {}, alertWords(a)), " ", remove)
    }))
    if (!mine.length) list.append(h("li", {class: "photon-alert-none"}, "No alerts yet."))
    const canAsk = typeof Notification !== "undefined" && Notification.permission === "default"
    notify.hidden = !canAsk
  }

  function open(symbol, price) {
    state.symbol = symbol
    title.textContent = `Alerts for ${symbol}`
    if (price != null && op.value !== "~") value.value = String(price)
    form.hidden = false
    refresh(state.alerts)
    value.focus()
  }

  function close() {
    if (form.hidden) return
    const symbol = state.symbol
    form.hidden = true
    state.symbol = null
    onClose(symbol)
  }

  form.addEventListener("submit", (ev) => {
    ev.preventDefault()
    const v = parseFloat(value.value)
    if (!state.symbol || !(v > 0)) return
    onChange([...state.keys, alertKey(state.symbol, op.value, v)].join(","))
  })
  form.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") { ev.preventDefault(); ev.stopPropagation(); close() }
  })
  done.addEventListener("click", close)
  notify.addEventListener("click", async () => {
    try { await Notification.requestPermission() } catch (e) { /* not offered here */ }
    refresh(state.alerts)
  })
  return {el: form, open, close, refresh, get symbol() { return state.symbol }}
}

// Fired alerts: a notice each (role="alert": read out once), newest first, the last
// few kept; each can be dismissed.
export function makeFiredList(keep = 5) {
  const box = h("div", {class: "photon-fired"})
  function add(text, symbol) {
    const dismiss = h("button", {type: "button", class: "photon-button"}, "Dismiss")
    const item = h("div", {class: "photon-fired-item", role: "alert",
                           "data-alert-symbol": symbol}, h("span", {}, text), " ", dismiss)
    dismiss.addEventListener("click", () => item.remove())
    box.prepend(item)
    while (box.children.length > keep) box.lastElementChild.remove()
  }
  return {el: box, add}
}

// The page's ticker search: Panel's MultiChoice (Choices.js), in shadow roots of the page.
export function pickerInput() {
  const found = []
  const walk = (root) => {
    root.querySelectorAll("input.choices__input").forEach((e) => found.push(e))
    root.querySelectorAll("*").forEach((e) => { if (e.shadowRoot) walk(e.shadowRoot) })
  }
  walk(document)
  return found[0] || null
}

// Panel's ticker picker (Choices.js) marks its chosen items aria-selected without a role
// that allows it (axe: aria-allowed-attr), and gives its search input role="textbox"
// (a search input is a searchbox already). Tidy both, now and whenever it re-renders.
// Returns a function that stops watching.
export function tidyPicker(input) {
  const root = input.getRootNode()
  const box = input.closest(".choices") || root
  const tidy = () => {
    box.querySelectorAll("[aria-selected]:not([role])").forEach((e) =>
      e.removeAttribute("aria-selected"))
    if (input.getAttribute("role") === "textbox") input.removeAttribute("role")
  }
  tidy()
  const watch = new MutationObserver(tidy)
  watch.observe(box, {subtree: true, childList: true, attributes: true,
                      attributeFilter: ["aria-selected", "role"]})
  return () => watch.disconnect()
}

// The fast lane: the board's deltas over a plain WebSocket (app/lanes/fastlane.py) at
// ``path`` (relative to the page). A socket that drops is opened again, up to five
// times with a growing wait; one that never opened (no route, a proxy in the way)
// calls ``failed`` once. Returns {close}.
export function fastLane(path, apply, failed) {
  let socket = null, opened = false, retries = 0, closing = false
  function connect() {
    if (closing) return
    const url = new URL(path, window.location.href)
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:"
    socket = new WebSocket(url)
    socket.onopen = () => { opened = true; retries = 0 }
    socket.onmessage = (ev) => apply(JSON.parse(ev.data))
    socket.onclose = () => {
      socket = null
      if (closing) return
      if (!opened || retries >= 5) { failed(); return }
      retries += 1
      setTimeout(connect, 500 * 2 ** retries)
    }
  }
  connect()
  return {close() { closing = true; if (socket) socket.close() }}
}

// Price alerts in the browser, which has every price: mirrors holds() and step() of
// app/views/alerts.py (tests/views/test_alerts.py runs both on the same cases).
// An alert is {key, symbol, op, value}: op ">" at or above value, "<" at or below,
// "~" a move of value % either way from `base`, the price when it was set.

export function alertHolds(alert, price, base) {
  if (price == null) return false
  if (alert.op === ">") return price >= alert.value
  if (alert.op === "<") return price <= alert.value
  if (!base) return false
  return Math.abs(price / base - 1) * 100 >= alert.value - 1e-9
}

// One new price: [fired, armedAfter]. Fires when armed and the condition holds;
// re-arms once it no longer holds (the price went back). No price: no change.
export function alertStep(alert, armed, price, base) {
  if (price == null) return [false, armed]
  const now = alertHolds(alert, price, base)
  if (armed && now) return [true, false]
  return [false, armed || !now]
}

// "above $230.50", "below $200.00", "moved 2% (from $120.00)": for notices.
export function alertWords(alert, base) {
  const money = (v) => "$" + v.toLocaleString("en-US", {minimumFractionDigits: 2,
                                                         maximumFractionDigits: 4})
  if (alert.op === ">") return `at or above ${money(alert.value)}`
  if (alert.op === "<") return `at or below ${money(alert.value)}`
  return `moved ${alert.value}% or more` + (base ? ` from ${money(base)}` : "")
}

// The page's alerts and where each stands: armed or not, the base of a move alert,
// whether it holds since it fired (the row stays marked until it re-arms).
export class AlertBook {
  constructor() { this.states = new Map() }  // key -> {alert, armed, base, hit}

  // A new list from the server; alerts already known keep their state. A new move
  // alert's base is the price now (priceOf(symbol)), or the first one seen.
  set(list, priceOf) {
    const next = new Map()
    for (const a of list) {
      next.set(a.key, this.states.get(a.key) ||
               {alert: a, armed: true, base: priceOf(a.symbol) ?? null, hit: false})
    }
    this.states = next
  }

  // A price of `symbol`: the alerts that fire now, whether any holds since firing
  // (hit), and how many alerts the symbol has.
  check(symbol, price) {
    const fired = []
    let hit = false, count = 0
    for (const st of this.states.values()) {
      if (st.alert.symbol !== symbol) continue
      count += 1
      if (st.alert.op === "~" && st.base == null && price != null) st.base = price
      const [now, armed] = alertStep(st.alert, st.armed, price, st.base)
      st.armed = armed
      if (now) { st.hit = true; fired.push(st) }
      else if (armed) st.hit = false
      hit = hit || st.hit
    }
    return {fired, hit, count}
  }
}

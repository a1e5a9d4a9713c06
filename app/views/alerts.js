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

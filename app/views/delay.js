// The board's tick-to-screen delay meter (the status line's "delay"). Pure: its
// maths is tested on made-up messages (tests/browser/test_delay_meter.py).

// Tick-to-screen delay as the viewer sees it, from each update's trade time (ts) and
// the server's publication time (at). Browser and server clocks differ, so the offset
// is estimated from the messages themselves: the smallest (receipt - at) over the last
// half minute is the clock offset plus the fastest delivery seen, NTP-style; the delay
// of a trade is then receipt - offset - ts (at most a few ms short of the true value).
const OFFSET_WINDOW_MS = 30000
const DELAY_WINDOW_MS = 3000

export class DelayMeter {
  constructor() { this.offsets = []; this.delays = [] }

  // One message received at nowMs (browser clock) with publication time `at` and the
  // trade times of the rows that carry new trades; returns the median delay in ms.
  observe(nowMs, at, tradeTimes) {
    const recv = nowMs / 1000
    this.offsets.push([nowMs, recv - at])
    while (this.offsets[0][0] < nowMs - OFFSET_WINDOW_MS) this.offsets.shift()
    const offset = Math.min(...this.offsets.map((o) => o[1]))
    for (const ts of tradeTimes) this.delays.push([nowMs, Math.max(0, recv - offset - ts)])
    while (this.delays.length && this.delays[0][0] < nowMs - DELAY_WINDOW_MS) this.delays.shift()
    if (!this.delays.length) return null
    const sorted = this.delays.map((d) => d[1]).sort((a, b) => a - b)
    return Math.round(sorted[Math.floor(sorted.length / 2)] * 1000)
  }
}

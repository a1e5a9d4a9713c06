// Sparkline points, bounded the way the server bounds them (app/hub/sparkline.py):
// once over the cap, older minutes thin to their last point, so the day a row was
// seeded with stays in view while live points arrive. Pure: run by node in the tests.

export function lowWater(maxPoints) {
  return Math.max(2, maxPoints - Math.max(1, Math.floor(maxPoints / 8)))
}

// points: [[t, price], ...] oldest first; returns a new array.
export function compactPoints(points, maxPoints) {
  if (points.length <= maxPoints) return points.slice()
  const target = lowWater(maxPoints)
  const groups = []
  for (const p of points) {
    const m = Math.floor(p[0] / 60)
    const last = groups[groups.length - 1]
    if (last && last.m === m) last.pts.push(p)
    else groups.push({m, pts: [p]})
  }
  let newest = groups.pop().pts
  let excess = points.length - target
  let kept = []
  for (const g of groups) {
    let pts = g.pts
    if (excess > 0 && pts.length > 1) {
      excess -= pts.length - 1
      pts = pts.slice(-1)
    }
    kept.push(...pts)
  }
  if (excess > 0) {
    const cut = Math.min(excess, Math.max(newest.length - Math.max(2, Math.floor(maxPoints / 4)), 0))
    newest = newest.slice(cut)
    excess -= cut
  }
  if (excess > 0) kept = kept.slice(excess)
  return kept.concat(newest).slice(-target)
}

// Where each point sits along the line, in minutes: every minute gets the same width
// (a gap-free time axis: a closed market's night takes no room), and the points of one
// minute spread evenly across it. A day of one-point minutes then fills the line with
// the live minute at its right end, and with no history the live minute fills it all.
export function sparkSlots(points) {
  const xs = new Array(points.length)
  let slot = -1, start = 0
  for (let i = 0; i <= points.length; i++) {
    const newMinute = i === points.length ||
      i === 0 || Math.floor(points[i][0] / 60) !== Math.floor(points[i - 1][0] / 60)
    if (newMinute && i > start) {
      const count = i - start
      for (let k = 0; k < count; k++) xs[start + k] = slot + (k + 1) / count
      start = i
    }
    if (newMinute && i < points.length) slot++
  }
  return xs
}

// Draw an entry's points into its polyline (the board's rows and the /sparkline embed).
export function drawSpark(entry) {
  const pts = entry.points
  const poly = entry.line
  if (pts.length < 2) { poly.setAttribute("points", ""); return }
  const W = 120, H = 28
  let lo = Infinity, hi = -Infinity
  for (const p of pts) { if (p[1] < lo) lo = p[1]; if (p[1] > hi) hi = p[1] }
  const span = hi - lo || 1
  const n = pts.length
  const xs = sparkSlots(pts)  // minutes, gap-free (spark.js)
  const x0 = xs[0], dx = (xs[n - 1] - x0) || 1
  const coords = pts.map((p, i) =>
    `${((xs[i] - x0) / dx * W).toFixed(1)},${(H - 2 - (p[1] - lo) / span * (H - 4)).toFixed(1)}`)
  poly.setAttribute("points", coords.join(" "))
  // Coloured like the row's change against the previous close (what the viewer reads
  // beside it); only without one (no reference yet) by the line's own first and last.
  const up = entry.pct != null ? entry.pct >= 0 : pts[n - 1][1] >= pts[0][1]
  entry.spark.classList.toggle("photon-spark-up", up)
  entry.spark.classList.toggle("photon-spark-down", !up)
}

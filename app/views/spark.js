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

"""Page probes: what a viewer's first visit and an embed cost, in Chromium and on the
wire."""

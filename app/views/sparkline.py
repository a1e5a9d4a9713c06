"""One symbol's live sparkline with its last price and change, for other pages.

It takes the board's place in a :class:`~app.views.dashboard.Dashboard` of one
symbol, so an embed is fed exactly like a board: a snapshot, then the fast lane's
(or Bokeh's) deltas. Only the drawing differs: small, to sit in a line of text
or a table cell.
"""

from __future__ import annotations

from pathlib import Path

import param

from app.views.board import BoardView

_HERE = Path(__file__).parent


class SparklineView(BoardView):
    """Browser side of ``/sparkline``: symbol, price, change and a sized sparkline."""

    # Its size is Panel's own width and height (the model's, so the embed's box fits).
    points = param.Integer(default=120, bounds=(2, None), doc="Points drawn.")

    _esm = _HERE / "sparkline.js"
    _stylesheets = [(_HERE / "sparkline.css").read_text()]


def clamp_int(raw: str | None, default: int, low: int, high: int) -> int:
    """A size from a query argument: ``default`` when missing or not a number."""
    try:
        return min(high, max(low, int(raw or "")))
    except ValueError:
        return default

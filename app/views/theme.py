"""Light and dark: the page follows the browser's ``prefers-color-scheme`` unless
``?theme=light`` or ``?theme=dark`` says otherwise.

Every colour in Photon's stylesheets is written once as ``light-dark(LIGHT, DARK)``;
which side applies is decided by the CSS ``color-scheme`` of the page, which
inherits into every shadow root. So a theme is one declaration on ``:root``, and
"auto" (``light dark``) lets the browser pick from the viewer's system setting
with no round trip to the server. ``?theme=dark`` also turns on Panel's own dark
design for its widgets (Panel reads that argument itself).
"""

from __future__ import annotations

# The rule of ?theme=, shared with saved boards (app/boards/fields.py).
from app.boards.fields import THEMES, theme_from_arg

__all__ = ["PICKER_CSS", "TEXT_CSS", "THEMES", "page_css", "theme_from_arg"]

_SCHEME = {"auto": "light dark", "light": "light", "dark": "dark"}

#: The page around the components (colours inherit into shadow roots from here).
_PAGE_CSS = """
:root { color-scheme: %s; }
body { background: light-dark(#ffffff, #0f1115); color: light-dark(#111827, #e5e7eb);
       padding: 0 clamp(12px, 3vw, 32px); }
/* The board page: centred, as wide as its max_width (app/main.py) at most. */
.photon-dashboard { margin-inline: auto; }
/* The chart's tooltip: BokehJS puts it at the top of the document, with light defaults
   on its own shadow host that a rule from outside overrides. */
.bk-Tooltip { --tooltip-color: light-dark(#ffffff, #161a22);
              --tooltip-text: light-dark(#111827, #e5e7eb);
              --tooltip-border: light-dark(#d1d5db, #374151);
              --tooltip-arrow-color: light-dark(#ffffff, #161a22); }
"""

#: Panel's ticker picker (Choices.js), whose own stylesheet has fixed light colours.
PICKER_CSS = """
:host { color: light-dark(#111827, #e5e7eb); }
.bk-input-group label, label { color: light-dark(#111827, #d1d5db); }
.choices__inner, .choices__input, .choices__list--dropdown, .choices__list[aria-expanded] {
  background: light-dark(#ffffff, #161a22) !important;
  color: light-dark(#111827, #e5e7eb) !important;
  border-color: light-dark(#d1d5db, #374151) !important;
}
.choices__list--dropdown .choices__item--selectable.is-highlighted {
  background: light-dark(#f2f2f2, #1f2937) !important;
}
"""

#: Panel panes that take their text colour from Panel's own (light) design, such as the
#: chart's caption: follow the page's scheme instead (dark text on a dark page otherwise).
TEXT_CSS = """
:host { --panel-on-background-color: light-dark(#212529, #e5e7eb);
        color: light-dark(#111827, #e5e7eb); }
"""


def page_css(theme: str) -> str:
    """Document-level CSS for ``theme``: the colour scheme and the page background."""
    return _PAGE_CSS % _SCHEME[theme_from_arg(theme)]


# -- the chart (app/views/chart.py) ----------------------------------------------------
#: Colours a chart draws on its canvas, which CSS cannot reach: per theme; "auto" takes
#: greys readable on both (the canvas itself is transparent, so the page shows through).
_CHART = {
    "light": {"axis": "#374151", "last": "#1c71d8"},
    "dark": {"axis": "#d1d5db", "last": "#62a0ea"},
    "auto": {"axis": "#6b7280", "last": "#3584e4"},
}


def chart_colors(theme: str) -> dict[str, str | float]:
    """The chart's canvas colours for ``theme`` (light, dark or auto)."""
    return {**_CHART[theme_from_arg(theme)], "grid": "#808080", "grid_alpha": 0.25,
            "shade": "#808080", "shade_alpha": 0.12}


def style_axes(fig, colors: dict) -> None:
    """Axes, ticks, labels and grid of a Bokeh figure in ``colors``."""
    for axis in fig.axis:
        axis.update(axis_line_color=colors["axis"], major_tick_line_color=colors["axis"],
                    minor_tick_line_color=colors["axis"],
                    major_label_text_color=colors["axis"],
                    axis_label_text_color=colors["axis"])
    for grid in fig.grid:
        grid.update(grid_line_color=colors["grid"], grid_line_alpha=colors["grid_alpha"])


#: Buttons next to the chart (the ranges, Close), whose Panel look is fixed light.
BUTTONS_CSS = """
.bk-btn { background: light-dark(#f8f9fa, #1f2430) !important;
          color: light-dark(#111827, #e5e7eb) !important;
          border-color: light-dark(#d1d5db, #374151) !important; }
.bk-btn:hover { background: light-dark(#e9ecef, #2b313c) !important; }
.bk-btn.bk-active { background: light-dark(#dbe4f0, #34507a) !important;
                    color: light-dark(#0b2e5c, #ffffff) !important; }
"""

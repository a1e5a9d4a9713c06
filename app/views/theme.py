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
body { background: light-dark(#ffffff, #0f1115); color: light-dark(#111827, #e5e7eb); }
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

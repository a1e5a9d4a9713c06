"""The board page's own script: fixes to Panel's and Bokeh's browser side that must be in
place before BokehJS renders the page (app/views/page.js says which and why).

It is written into the page (the template of :mod:`app.views.first_paint`) as a module
script after BokehJS's, so it runs once they have loaded and before Bokeh's embed code,
which waits for DOMContentLoaded. A component's module would load too late: the
picker could render, and Panel's Location push its first URL, before it ran.
"""

from __future__ import annotations

from pathlib import Path

from app.views.esm import classic_script

#: The template variable the page template writes the script from.
VARIABLE = "page_script"

SCRIPT = ("<script type=\"module\">\n"
          + classic_script(Path(__file__).with_name("page.js"))
          + "\noneHistoryEntry(window)\nfixPicker(window.Bokeh)\n</script>")
"""The ``<script>`` element, read once per process."""


def install(doc) -> None:
    """Write the script into ``doc``'s page (its template must write :data:`VARIABLE`)."""
    doc.template_variables[VARIABLE] = SCRIPT

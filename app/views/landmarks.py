"""ARIA landmarks on the elements Panel renders anyway, so screen-reader users (and
axe-core's ``region`` and ``landmark-one-main`` rules) can jump to the page's parts.

Bokeh sets a model's ``html_attributes`` on the element it renders for it; Panel does
not expose them, so these subclasses add the parameter. A role on an element that is
there anyway (the picker's) costs nothing; a column around board and chart costs one
model. Neither changes anything a sighted viewer sees.
"""

from __future__ import annotations

import panel as pn
import param

#: Read out, not shown: for a heading a sighted viewer does not need (as in board.css).
SR_ONLY_CSS = """.photon-sr { position: absolute; width: 1px; height: 1px; margin: -1px;
  padding: 0; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }"""


class _HtmlAttributes(param.Parameterized):
    html_attributes = param.Dict(default={}, doc="HTML attributes of the component's "
                                 "element (e.g. role, aria-label), set by Bokeh.")


class Landmark(_HtmlAttributes, pn.Column):
    """A column that is a landmark: ``Landmark(board, html_attributes={"role": "main"})``."""


class TickerPicker(_HtmlAttributes, pn.widgets.MultiChoice):
    """The ticker picker, which can be a landmark itself (``role="search"``)."""

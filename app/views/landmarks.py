"""ARIA landmarks on the elements Panel renders anyway, so screen-reader users (and
axe-core's ``region`` and ``landmark-one-main`` rules) can jump to the page's parts.

Bokeh sets a model's ``html_attributes`` on the element it renders for it; Panel does
not expose them, so these subclasses add the parameter. A role on an existing element
costs no extra element, model or style: nothing changes for a sighted viewer.
"""

from __future__ import annotations

import panel as pn
import param


class _HtmlAttributes(param.Parameterized):
    html_attributes = param.Dict(default={}, doc="HTML attributes of the component's "
                                 "element (e.g. role, aria-label), set by Bokeh.")


class Landmark(_HtmlAttributes, pn.Column):
    """A column that is a landmark: ``Landmark(board, html_attributes={"role": "main"})``."""


class TickerPicker(_HtmlAttributes, pn.widgets.MultiChoice):
    """The ticker picker, which can be a landmark itself (``role="search"``)."""

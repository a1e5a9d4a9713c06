"""Photon: a real-time stock ticker dashboard on Panel and the Bokeh server."""

__version__ = "0.1.0"

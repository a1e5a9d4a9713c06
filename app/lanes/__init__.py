"""Lanes: how each cycle's changes reach browsers.

The fast lane (a plain WebSocket route, one pre-serialised message per session per
cycle), the Bokeh lane (document updates, for notebooks and as a fallback), the
status broadcast (feed health once a second), and the extra HTTP routes.
"""

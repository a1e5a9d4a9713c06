"""Saved boards: each user's named boards (symbols in order, sort, alerts, theme).

One SQLite file in Photon's data directory (``PHOTON_BOARDS``), the JSON API
(``/api/boards``) and the rules a board must follow. Below the hub and the relay, so
the server's own alert evaluation (a later part) can read every saved board's alerts
(:meth:`store.BoardStore.alerts`); above access, whose guard the API mixes in. Knows
Tornado, not Panel: the page's side is :mod:`app.views.boards`.
"""

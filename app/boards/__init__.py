"""Saved boards: each user's named boards (symbols in order, sort, alerts, theme).

One SQLite file in Photon's data directory (``PHOTON_BOARDS``), the JSON API
(``/api/boards``) and the rules a board must follow. Below the hub and the relay,
which can read every saved board's alerts (:meth:`store.BoardStore.alerts`) for the
server's alert engine; above :mod:`app.alerts` (its rules check a board's alerts; its
engine is what saved boards will tell when their alerts change) and :mod:`app.access`,
whose guard the API mixes in. Knows Tornado, not Panel: the page's side is
:mod:`app.views.boards`.
"""

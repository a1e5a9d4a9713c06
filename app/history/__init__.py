"""Photon remembers: one-minute bars of every trade, kept in an embedded database.

``bars`` folds trades into one-minute OHLCV bars (pure); ``store`` keeps them in one
SQLite file (WAL); ``writer`` writes them in batches from its own thread; ``backfill``
fetches a session of bars from the provider on a symbol's first subscription;
``service`` ties these to a hub; ``handler`` answers ``GET /history``.
"""

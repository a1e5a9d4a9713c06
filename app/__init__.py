"""Photon: a real-time stock ticker dashboard on Panel and the Bokeh server."""

__version__ = "0.1.0"


def __getattr__(name: str):
    """``app.board(...)``/``app.LiveBoard``: the notebook API (:mod:`app.notebook`),
    imported on first use so the ``photon`` command does not load it."""
    if name in ("board", "LiveBoard"):
        from app import notebook

        return getattr(notebook, name)
    raise AttributeError(f"module 'app' has no attribute {name!r}")
